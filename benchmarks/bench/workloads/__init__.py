"""One module per workload: ``run`` measures, ``report`` writes its Markdown section.

``dense`` (W1, W2 and the matmul peak), ``w3``, ``w4``, ``w5``, ``predict``, ``imports``.
W4 and W5 run their measurements in fresh processes, ``python -m`` their own module
(``harness.run_worker``); this package's import therefore imports none of them.
"""
