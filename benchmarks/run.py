#!/usr/bin/env python
"""Benchmark kerasreg's DenseRegressor against the usual ways to train the same network.

Run from the repository root::

    python benchmarks/run.py            # full run, writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick    # CI-sized run (~2-3 min on 2 cores), prints only
    python benchmarks/run.py --readme   # README.md's table from benchmarks/RESULTS.md

The workloads, contenders, report and README table live in ``benchmarks/bench/``
(see benchmarks/README.md); this script parses the command line and runs them.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
# Benchmark the checkout this script lives in, installed or not.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.bench import readme, runner  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="CI-sized run (fewer epochs, small grid, W4 up to 100k rows)",
    )
    p.add_argument(
        "--output",
        help="write the markdown report here (default: "
        "benchmarks/RESULTS.md for a full run, nowhere for --quick)",
    )
    p.add_argument("--only", help="comma-separated subset of " + ",".join(runner.WORKLOADS))
    p.add_argument(
        "--w4-mlp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run MLPRegressor in W4 for reference "
        "(default: yes for a full run, no with --quick)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="timed fits per contender in W1/W2, best one reported (default: 1)",
    )
    p.add_argument("--json", help="also dump the raw numbers as JSON here")
    p.add_argument(
        "--readme",
        action="store_true",
        help="run nothing: rewrite README.md's performance table from benchmarks/RESULTS.md",
    )
    args = p.parse_args(argv)
    if args.readme:
        return readme.main([])
    only = set(runner.WORKLOADS if not args.only else args.only.lower().split(","))
    unknown = only - set(runner.WORKLOADS)
    if unknown:
        p.error(f"unknown workloads: {sorted(unknown)}")
    return runner.main(args, only)


if __name__ == "__main__":
    sys.exit(main())
