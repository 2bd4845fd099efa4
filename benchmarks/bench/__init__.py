"""The benchmark behind ``benchmarks/run.py``, in parts.

* ``harness``: settings (FULL / QUICK), timing, the machine, the data, subprocesses.
* ``contenders``: one module per way of training the network, behind one interface.
* ``workloads``: one module per workload: what it runs and the table it reports.
* ``report``: the targets (as data) and the whole Markdown report.
* ``readme``: README.md's performance table, generated from benchmarks/RESULTS.md.
* ``runner``: one run, workload after workload, as ``run.py`` asks.

Nothing here imports TensorFlow, Keras or scikeras at import time: a contender
imports its library when it first runs, so that a missing one is a skipped row.
"""
