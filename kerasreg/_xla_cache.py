"""The persistent XLA cache's files (``KERASREG_XLA_CACHE``): only sound ones, bounded.

TensorFlow loads a compiled program from its persistent cache without
checking the program's bytes. Measured on TensorFlow 2.21: a truncated file
fails the fit with ``OutOfRangeError: Read less bytes than requested``, a
damaged one with ``DataLossError: Can't parse ...``, in every later process;
and TensorFlow remembers the failure, so that program fails for the rest of
the process even after the file is gone. A file someone else put there would
run as this process's machine code. So, for the cache directory of
:func:`kerasreg._compat.startup.xla_cache_directory`:

* it is used only if it is the user's own and no one else can write to it
  (:func:`problem` says why not, and the fit runs without a cache);
* every program file TensorFlow writes is *sealed* after the call that wrote
  it: its size and SHA-256 in ``<file>.seal`` (see :func:`seal`);
* before TensorFlow may read the directory (as its runtime starts, and before
  each call that may compile or load a program), :func:`check` removes every
  program whose seal does not match, and those without a seal and the
  temporary files that a process left when it died (older than
  :data:`STALE_SECONDS`: a fresh unsealed program is another process's, whole
  as TensorFlow renames it into place, and sealed after that process's call);
* the directory is kept under :data:`MAX_BYTES`, the oldest programs removed first.

This module needs neither TensorFlow nor the rest of kerasreg.
"""

import hashlib
import os
import stat
import threading
import time

#: Most bytes of programs kept; past it the oldest are removed.
MAX_BYTES = 512 << 20
#: TensorFlow's temporary files (written, then renamed into place) and programs
#: without a seal older than this, in seconds, were left by a process that
#: died while writing or before sealing.
STALE_SECONDS = 600

SEAL = ".seal"
_TEMPORARY = ".tmp"

_lock = threading.Lock()
# Files checked (or sealed) by this process: path -> (size, mtime_ns).
_sound = {}


def problem(directory):
    """Why directory cannot be the cache (a sentence), or None; creates it if missing.

    It must be a directory this process can write, owned by the user, that
    neither the group nor others can write to: what TensorFlow loads from it
    runs as machine code. Its parent may be shared only if it is sticky (as
    ``/tmp``), so that no one else can swap the directory.
    """
    if os.path.exists(directory) and not os.path.isdir(directory):
        return "it is not a directory"
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.stat(directory)
        parent = os.stat(os.path.dirname(os.path.abspath(directory)))
    except OSError as e:
        return f"it cannot be created ({e.strerror or e})"
    if parent.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not parent.st_mode & stat.S_ISVTX:
        return "others can write to the directory above it"
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return "it belongs to another user"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "others can write to it (chmod go-w it)"
    if not os.access(directory, os.W_OK | os.X_OK):
        return "this process cannot write to it"
    return None


def _digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _seal_text(path, size):
    return f"{size} {_digest(path)}\n"


def _remove(*paths):
    for path in paths:
        _sound.pop(path, None)
        try:
            os.remove(path)
        except OSError:
            pass


def forget(path):
    """Remove a program (and its seal) that TensorFlow could not read."""
    with _lock:
        _remove(path, path + SEAL)


def _programs(directory):
    """(name, path, stat) of the directory's program files: not seals, not temporary."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    out = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            info = os.stat(path)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        if name.endswith(SEAL):
            if not os.path.exists(path[: -len(SEAL)]):
                _remove(path)  # the program it sealed is gone
            continue
        if name.endswith(_TEMPORARY):
            if time.time() - info.st_mtime > STALE_SECONDS:
                _remove(path)
            continue
        out.append((name, path, info))
    return out


def _sealed(path, size):
    """True if path's seal matches it, False if not, None if it has no seal."""
    try:
        with open(path + SEAL) as f:
            return f.read() == _seal_text(path, size)
    except FileNotFoundError:
        return None
    except OSError:
        return False


def check(directory):
    """Remove what TensorFlow must not load: changed programs, stale unsealed ones and temporaries.

    A fresh program without a seal stays: another process's TensorFlow wrote
    it (whole: it renames its file into place) and that process seals it
    after its call; one whose process died first is removed once stale. Then
    the directory is kept under MAX_BYTES, the oldest programs removed first.
    Returns the paths removed.
    """
    removed, kept = [], []
    with _lock:
        for _, path, info in _programs(directory):
            seen = (info.st_size, info.st_mtime_ns)
            if _sound.get(path) != seen:
                sealed = _sealed(path, info.st_size)
                stale = time.time() - info.st_mtime > STALE_SECONDS
                if sealed is False or (sealed is None and stale):
                    _remove(path, path + SEAL)
                    removed.append(path)
                    continue
                if sealed:
                    _sound[path] = seen
            kept.append((info.st_mtime_ns, info.st_size, path))
        total = sum(size for _, size, _ in kept)
        for _, size, path in sorted(kept):
            if total <= MAX_BYTES:
                break
            _remove(path, path + SEAL)
            removed.append(path)
            total -= size
    return removed


def seal(directory):
    """Seal the programs written since the last check: new or changed since it.

    Whole files, as TensorFlow renames each into place: this process's, or
    another's (two workers of a parallel search compiling the same program
    at once each write it, and their bytes may differ; the last one stands).
    """
    with _lock:
        for _, path, info in _programs(directory):
            if _sound.get(path) == (info.st_size, info.st_mtime_ns):
                continue
            try:
                text = _seal_text(path, info.st_size)
                temporary = f"{path}{SEAL}.{os.getpid()}{_TEMPORARY}"
                with open(temporary, "w") as f:
                    f.write(text)
                os.replace(temporary, path + SEAL)
            except OSError:
                continue  # unsealed: the next check removes it
            _sound[path] = (info.st_size, info.st_mtime_ns)
