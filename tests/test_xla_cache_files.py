"""The XLA cache's files (kerasreg._xla_cache): only sealed, unchanged programs stay, bounded.

No TensorFlow here: the rules on files written as TensorFlow writes them
(a program, renamed into place from a ``.tmp`` file). tests/test_xla_cache.py
runs them with TensorFlow's own cache in fresh processes.
"""

import os
import time

import pytest

from kerasreg import _xla_cache
from kerasreg._xla_cache import SEAL, check, problem, seal


def program(directory, name, size=1000, fill=b"p"):
    path = directory / f"xla_compile_cache__{name}__XLA_CPU_JIT.pb"
    path.write_bytes(fill * size)
    return path


def names(directory):
    return sorted(p.name for p in directory.iterdir())


def age(path, seconds):
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_a_sealed_program_stays_and_an_old_unsealed_one_goes(tmp_path):
    kept = program(tmp_path, "a")
    seal(tmp_path)
    assert (tmp_path / (kept.name + SEAL)).exists()
    left = program(tmp_path, "b")  # its process died before sealing it
    age(left, _xla_cache.STALE_SECONDS + 1)
    assert check(tmp_path) == [str(left)]
    assert names(tmp_path) == [kept.name, kept.name + SEAL]


def test_another_process_s_fresh_program_is_left_for_it_to_seal(tmp_path):
    # A parallel search's other worker: TensorFlow renamed the whole file into
    # place as it compiled; the worker seals it once its call returns.
    theirs = program(tmp_path, "b")
    assert check(tmp_path) == []
    seal(tmp_path)  # (this process seals it as well after a call of its own)
    _xla_cache._sound.clear()
    age(theirs, _xla_cache.STALE_SECONDS + 1)
    assert check(tmp_path) == []  # sealed: kept, however old
    assert names(tmp_path) == [theirs.name, theirs.name + SEAL]


@pytest.mark.parametrize("damage", ["truncated", "changed", "seal_lost", "seal_garbled"])
def test_a_damaged_program_is_removed_before_tensorflow_can_load_it(tmp_path, damage):
    path = program(tmp_path, "a", size=5000)
    seal(tmp_path)
    _xla_cache._sound.clear()  # a later process: nothing checked yet
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "changed":  # same size, one byte different
        data = bytearray(path.read_bytes())
        data[2500] ^= 1
        path.write_bytes(bytes(data))
    elif damage == "seal_lost":
        os.remove(str(path) + SEAL)
        age(path, _xla_cache.STALE_SECONDS + 1)
    else:
        (tmp_path / (path.name + SEAL)).write_text("garbage")
    assert check(tmp_path) == [str(path)]
    assert names(tmp_path) == []


def test_a_program_two_workers_wrote_at_once_keeps_the_last_one_s_seal(tmp_path):
    # Both compiled it; A's TensorFlow wrote it and A sealed it, then B's
    # TensorFlow replaced it (other bytes) before B's call returned.
    path = program(tmp_path, "a", fill=b"1")
    seal(tmp_path)  # A
    _xla_cache._sound.clear()  # B had not seen it
    path.write_bytes(b"2" * 1000)
    seal(tmp_path)  # B
    _xla_cache._sound.clear()  # a later process
    assert check(tmp_path) == []
    assert names(tmp_path) == [path.name, path.name + SEAL]


def test_a_change_after_this_process_checked_the_file_is_caught(tmp_path):
    path = program(tmp_path, "a", size=5000)
    seal(tmp_path)
    assert check(tmp_path) == []
    time.sleep(0.01)
    path.write_bytes(b"q" * 5000)  # same size, new mtime
    assert check(tmp_path) == [str(path)]


def test_temporary_files_are_left_while_fresh_and_removed_when_stale(tmp_path):
    fresh = tmp_path / "xla_compile_cache__a.pb12_34.tmp"
    stale = tmp_path / "xla_compile_cache__b.pb56_78.tmp"
    fresh.write_bytes(b"x")
    stale.write_bytes(b"x")
    age(stale, _xla_cache.STALE_SECONDS + 1)
    seal(tmp_path)  # temporaries are never sealed
    check(tmp_path)
    assert names(tmp_path) == [fresh.name]


def test_an_orphan_seal_is_removed(tmp_path):
    path = program(tmp_path, "a")
    seal(tmp_path)
    os.remove(path)
    check(tmp_path)
    assert names(tmp_path) == []


def test_the_cache_is_kept_under_its_size_the_oldest_removed_first(tmp_path, monkeypatch):
    monkeypatch.setattr(_xla_cache, "MAX_BYTES", 2500)
    paths = []
    for i, name in enumerate("abc"):
        paths.append(program(tmp_path, name, size=1000))
        os.utime(paths[-1], ns=(10**18 + i, 10**18 + i))
    seal(tmp_path)
    assert check(tmp_path) == [str(paths[0])]
    assert names(tmp_path) == sorted(n for p in paths[1:] for n in (p.name, p.name + SEAL))


def test_a_directory_others_can_write_to_is_refused(tmp_path):
    cache = tmp_path / "cache"
    assert problem(str(cache)) is None  # created, private
    assert oct(cache.stat().st_mode & 0o777) == oct(0o700)
    cache.chmod(0o770)
    assert "others can write to it" in problem(str(cache))
    cache.chmod(0o700)
    tmp_path.chmod(0o777)  # a shared parent, not sticky: the directory could be swapped
    try:
        assert "directory above it" in problem(str(cache))
        tmp_path.chmod(0o1777)  # sticky, as /tmp
        assert problem(str(cache)) is None
    finally:
        tmp_path.chmod(0o700)


def test_a_path_that_cannot_be_a_directory_is_refused(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    assert "cannot be created" in problem(str(afile / "cache"))
    assert "not a directory" in problem(str(afile))
