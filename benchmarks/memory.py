#!/usr/bin/env python
"""Memory of many fits in one process: kerasreg's memory probe, on this checkout.

The probe is :mod:`kerasreg._memory_probe` (the tests run it too); see its
docstring for what it measures. From the repository root::

    python benchmarks/memory.py --fits 200
    python benchmarks/memory.py --fits 500 --json /tmp/memory.json
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
# Measure the checkout this script lives in, installed or not.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from kerasreg._memory_probe import main  # noqa: E402

if __name__ == "__main__":
    main()
