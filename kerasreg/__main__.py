"""``python -m kerasreg``: the ``kerasreg`` command line."""

from kerasreg.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
