"""TensorFlow's thread pools from the environment: joblib's count, kerasreg's, at most the CPUs."""

import warnings

import pytest


def _cpus():
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


@pytest.mark.parametrize(
    "ours, omp, expected",
    [
        (None, None, None),  # TensorFlow's own pools
        (None, "1", 1),  # joblib's workers
        ("1", "2", 1),  # kerasreg's variable wins
        (None, "100000", "cpus"),  # at most the CPUs, quietly for OMP's
    ],
)
def test_thread_pools_follow_the_environment_up_to_the_cpus(monkeypatch, ours, omp, expected):
    from kerasreg._engine.threads import thread_count

    for name, value in (("KERASREG_NUM_THREADS", ours), ("OMP_NUM_THREADS", omp)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert thread_count() == (_cpus() if expected == "cpus" else expected)


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5", "100000"])
def test_a_thread_count_that_cannot_be_used_is_said_so(monkeypatch, value):
    from kerasreg._engine.threads import thread_count

    monkeypatch.setenv("KERASREG_NUM_THREADS", value)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with pytest.warns(UserWarning, match="KERASREG_NUM_THREADS=") as record:
        count = thread_count()
    if value == "100000":  # measured: TensorFlow starting 100,000 threads hung the first fit
        assert count == _cpus() and f"{_cpus()} threads" in str(record[0].message)
    else:
        assert count is None and "not a positive whole number" in str(record[0].message)
