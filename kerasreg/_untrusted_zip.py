"""Reading a zip archive from an untrusted source, in bounded memory.

The model file's reader (:mod:`kerasreg._persistence`) is built on these: a
file is opened only if it is a regular file, its zip directory is bounded
before ``zipfile`` parses it, members must be stored or deflated (``zipfile``
bounds no read of bzip2 or LZMA output) and unencrypted, JSON and ``.npy``
members are read with their sizes, nesting and headers capped before any
allocation they would cause, and anything ``zipfile``, ``zlib``, ``json`` or
``numpy`` raise on a malformed file becomes one
``ValueError("Cannot load '<path>' as a kerasreg model: <what is wrong>")``.
"""

import collections
import contextlib
import io
import json
import math
import os
import stat
import struct
import zipfile
import zlib

import numpy as np

# The zip directory: ~60 bytes a member.
_DIRECTORY_MAX_BYTES = 16 << 20
# A .npy header is ~128 bytes; numpy would read any length its field claims.
_NPY_MAX_HEADER = 4096


def prefix(path):
    return f"Cannot load {path!r} as a kerasreg model: "


def error(path, problem):
    return ValueError(f"{prefix(path)}{problem.rstrip('.')}.")


def quote(names):
    return ", ".join(repr(n) for n in names)


@contextlib.contextmanager
def opened(path):
    """The file at path as a ZipFile; only a regular file, so /dev/zero or a pipe fails at once."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer (no effect on files).
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise error(path, "it is not a regular file (a directory, a device or a pipe)")
    with open(fd, "rb") as f:
        zf = guarded(path, lambda: _zip(f, path))
        with zf:
            yield zf


def _zip(f, path):
    # ZipFile reads the whole central directory into objects (~10x its size)
    # before any member is checked: bound it first, from the end record.
    directory = _central_directory_size(f)
    if directory is not None and directory > _DIRECTORY_MAX_BYTES:
        raise error(path, f"its zip directory takes {directory} bytes; a model's takes a few KB")
    try:
        return zipfile.ZipFile(f)
    except zipfile.BadZipFile as e:
        raise error(
            path, f"it is not a zip archive (truncated, or another kind of file): {e}"
        ) from e


def _central_directory_size(f):
    """The central directory's size by the zip end record; None if absent or zip64."""
    end = f.seek(0, os.SEEK_END)
    f.seek(max(0, end - (1 << 16) - 22))  # the record, and a comment of at most 64 KiB
    tail = f.read()
    f.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 16:
        return None
    size = struct.unpack("<I", tail[at + 12 : at + 16])[0]
    return None if size == 0xFFFFFFFF else size


def guarded(path, read):
    """read(), with anything a malformed file can raise turned into one ValueError.

    zipfile, zlib and json raise their own errors on damaged input; a crafted
    one can also give RecursionError (deep nesting), OverflowError (huge
    numbers) or MemoryError (sizes the reads did not bound).
    """
    try:
        return read()
    except (
        zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, KeyError,
        TypeError, ValueError, OverflowError, RecursionError, MemoryError,
        NotImplementedError, RuntimeError, struct.error, UnicodeDecodeError, OSError,
    ) as e:  # fmt: skip
        if isinstance(e, ValueError) and str(e).startswith(prefix(path)):
            raise  # already described
        raise error(path, f"it is damaged or malformed ({type(e).__name__}: {e})") from e


def _read_capped(zf, name, limit, path):
    """A member's bytes, refused past limit whatever its declared size."""
    try:
        info = zf.getinfo(name)
    except KeyError as e:
        raise error(path, f"the member {name!r} is missing") from e
    too_large = error(path, f"{name} is larger than {limit} bytes, far more than a model needs")
    if info.file_size > limit:
        raise too_large
    with zf.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return data


def _depth(value):
    """How deeply lists and dicts nest in a parsed JSON value."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, depth)
            stack.extend(
                (v, depth + 1) for v in (value.values() if isinstance(value, dict) else value)
            )
    return deepest


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} overflows a float")
    return value


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _npy_header(member):
    """The magic, length and header of a .npy stream, at most _NPY_MAX_HEADER long."""
    start = member.read(10)
    if len(start) < 10 or start[:6] != b"\x93NUMPY" or start[6] not in (1, 2):
        raise ValueError("not a .npy version 1 or 2 header")
    if start[6] == 1:
        length = struct.unpack("<H", start[8:10])[0]
    else:
        start += member.read(2)
        length = struct.unpack("<I", start[8:12])[0]
    if length > _NPY_MAX_HEADER:
        raise ValueError(f"a header of {length} bytes claimed, more than {_NPY_MAX_HEADER}")
    return io.BytesIO(start + member.read(length))


def check_archive(zf, path):
    """The member names, each once, stored or deflated and unencrypted; raises otherwise."""
    names = zf.namelist()
    repeated = sorted(name for name, count in collections.Counter(names).items() if count > 1)
    if repeated:
        raise error(
            path,
            f"it holds {quote(repeated)} more than once: which copy counts is ambiguous "
            "(zip tools and Python's zipfile disagree), so it is refused",
        )
    for info in zf.infolist():
        # zipfile decompresses bzip2 and LZMA without bounding a read's output;
        # kerasreg writes deflate only.
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise error(
                path, f"{info.filename} uses compression method {info.compress_type}; "
                "kerasreg writes deflate or none",
            )  # fmt: skip
        if info.flag_bits & 0x1:
            raise error(path, f"{info.filename} is encrypted")
    return names


def read_json(zf, name, path, *, max_bytes, max_containers, max_depth):
    """A JSON member, parsed within the limits: bytes, lists and objects, nesting."""
    data = _read_capped(zf, name, max_bytes, path)
    # Parsing costs memory per list or object (a 17 KB file of 16 MiB of
    # "[{},{},...]" peaked at 947 MiB): counted on the bytes first.
    containers = data.count(b"[") + data.count(b"{")
    if containers > max_containers:
        raise error(path, f"{name} holds {containers} lists or objects; a model needs a few dozen")
    try:
        value = json.loads(
            data.decode("utf-8"), parse_float=_finite_float, parse_constant=_no_constant
        )
    except RecursionError as e:
        raise error(path, f"{name} nests lists or objects too deeply") from e
    except (UnicodeDecodeError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        raise error(path, f"{name} is not valid JSON: {e}") from e
    if _depth(value) > max_depth:
        raise error(path, f"{name} nests lists or objects more than {max_depth} deep")
    return value


def read_npy(zf, name, path, shape, dtypes, wrong):
    """A .npy member of the given shape and one of dtypes, read in memory bounded by the shape.

    The header is read and checked before any data, so a member whose header
    claims another shape or dtype is refused without decompressing the rest,
    and no more than the shape's bytes are read; ``wrong`` ends the message
    for a mismatch ("but ... needs ...").
    """
    most = 8 + 4 + _NPY_MAX_HEADER + math.prod(shape) * max(d.itemsize for d in dtypes)
    if zf.getinfo(name).file_size > most:
        raise error(path, f"{name} is larger than an array of shape {shape} can be, {wrong}")
    with zf.open(name) as member:
        try:
            header = _npy_header(member)
            version = np.lib.format.read_magic(header)
            read_header = {
                (1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0,
            }[version]
            got, fortran_order, dtype = read_header(header)
        except (ValueError, KeyError) as e:
            raise error(path, f"{name} is not a plain .npy array: {e}") from e
        if dtype.hasobject:
            raise error(path, f"{name} is not a plain .npy array: it holds Python objects")
        if dtype not in dtypes or tuple(got) != shape:
            raise error(path, f"{name} holds {dtype} of shape {tuple(got)}, {wrong}")
        size = math.prod(shape) * dtype.itemsize
        data = member.read(size + 1)
    if len(data) != size:
        raise error(
            path, f"{name} holds {len(data)}{'+' if len(data) > size else ''} bytes of data; "
            f"its shape {shape} needs {size}",
        )  # fmt: skip
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order else "C")
