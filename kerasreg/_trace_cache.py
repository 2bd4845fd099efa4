"""Traced programs on disk (with ``KERASREG_XLA_CACHE``): a later process skips the trace.

Building a workspace's programs in Python (TensorFlow's tracing) took 0.12-0.2 s
of a process's first fit of a 3x512 network. With ``KERASREG_XLA_CACHE``, the
graph definitions a trace produced are kept in the cache's ``traces`` folder,
one file per program, and a later process defines the same functions in
TensorFlow directly (see kerasreg._engine.traced).

A file holds one header line (JSON: the format, the program's key, its
function's name, its inputs and outputs, which workspace variables it reads,
the size and SHA-256 of the rest) and then the graph definitions' bytes.
A file that is too large, damaged, or of another format or key is removed and
the program traced (and saved) again. The folder is as private as the cache
(kerasreg._xla_cache.problem): what is in it runs in this process. At most
:data:`MAX_FILES` files are kept, the oldest removed first.

This module needs neither TensorFlow nor the rest of kerasreg.
"""

import hashlib
import json
import os
import time

#: The file format; a file of another is traced again.
FORMAT = 1
#: Largest file read (a 3x512 network's epochs program is ~60 KB).
MAX_FILE_BYTES = 16 << 20
#: Most files kept; past it the oldest are removed.
MAX_FILES = 256
#: A temporary file older than this (seconds) was left by a process that died writing it.
STALE_SECONDS = 600
_MAX_HEADER = 1 << 16
_SUFFIX = ".trace"
_TEMPORARY = ".tmp"


def _path(directory, key):
    return os.path.join(directory, hashlib.sha256(key.encode()).hexdigest()[:32] + _SUFFIX)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def read(directory, key):
    """The saved program for key: its header (a dict) with ``payload`` (bytes), or None.

    None where there is none; a file that is not sound (too large, a header
    that does not parse, another format or key, bytes that do not match their
    size and digest) is removed.
    """
    path = _path(directory, key)
    try:
        f = open(path, "rb")
    except OSError:
        return None
    with f:
        try:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise ValueError("too large")
            header = json.loads(f.readline(_MAX_HEADER))
            if header.get("format") != FORMAT or header.get("key") != key:
                raise ValueError("another format or key")
            payload = f.read(MAX_FILE_BYTES + 1)
            if len(payload) != header["size"] or (
                hashlib.sha256(payload).hexdigest() != header["sha256"]
            ):
                raise ValueError("damaged")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            _remove(path)
            return None
    return {**header, "payload": payload}


def write(directory, key, payload, **header):
    """Save payload (bytes) with header's entries for key; quietly nothing on an OS error.

    Written to a temporary file and renamed into place, so that a reader sees
    a whole file or none (two processes saving the same program: the last stands).
    """
    path = _path(directory, key)
    text = json.dumps(
        {"format": FORMAT, "key": key, **header, "size": len(payload),
         "sha256": hashlib.sha256(payload).hexdigest()}
    )  # fmt: skip
    temporary = f"{path}.{os.getpid()}{_TEMPORARY}"
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with open(temporary, "wb") as f:
            f.write(text.encode() + b"\n" + payload)
        os.replace(temporary, path)
    except OSError:
        _remove(temporary)
        return
    _prune(directory)


def _prune(directory):
    """Keep the newest MAX_FILES; remove temporary files a process left when it died."""
    try:
        entries = list(os.scandir(directory))
        stale = [e for e in entries if e.name.endswith(_TEMPORARY)
                 and time.time() - e.stat().st_mtime > STALE_SECONDS]  # fmt: skip
        files = sorted(
            (e for e in entries if e.name.endswith(_SUFFIX)), key=lambda e: e.stat().st_mtime_ns
        )
    except OSError:
        return
    for entry in stale + files[: max(0, len(files) - MAX_FILES)]:
        _remove(entry.path)
