"""Model files crafted as an attacker would: one ValueError, bounded memory, never a hang.

Each crafted file is built here from a real saved model (no binary fixtures).
Loading runs in a subprocess under an address-space limit, one forked child
per file, which reports its peak RSS; the command line must exit 2 with one
line for each.
"""

import io
import json
import struct
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_regression

from kerasreg import DenseRegressor, load, read_metadata
from kerasreg.cli import main

# Peak RSS allowed to a child loading one crafted file (the parent, with
# scikit-learn and pandas imported, is ~150 MiB of it).
RSS_LIMIT_MIB = 600
ADDRESS_SPACE = 2_000_000_000
GIB = 1 << 30


@pytest.fixture(scope="module")
def fitted():
    X, y = make_regression(n_samples=80, n_features=3, noise=0.5, random_state=0)
    X = pd.DataFrame(X, columns=["a", "b", "c"])
    return DenseRegressor(width=8, depth=1, epochs=3, random_state=0).fit(X, y), X


@pytest.fixture(scope="module")
def original(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.kr"
    fitted[0].save(path)
    return path


def members(path):
    with zipfile.ZipFile(path) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def write(path, entries):
    """A zip of (name, bytes or an iterable of chunks), duplicates allowed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, data in entries:
                if isinstance(data, tuple):  # (bytes, compression)
                    zf.writestr(name, data[0], compress_type=data[1])
                    continue
                if isinstance(data, bytes):
                    zf.writestr(name, data)
                    continue
                with zf.open(name, "w", force_zip64=True) as member:
                    for chunk in data:
                        member.write(chunk)
    return path


def npy_header(shape, dtype="<f4"):
    """A .npy header alone, for an array of that shape."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def repeated(chunk, total):
    for _ in range(total // len(chunk)):
        yield chunk


def edited(entries, change):
    """entries with model.json changed by change(meta)."""
    meta = json.loads(dict(entries)["model.json"])
    change(meta)
    text = json.dumps(meta, allow_nan=True)
    return [(n, text.encode() if n == "model.json" else d) for n, d in entries]


def _set(path, value):
    def change(meta):
        *keys, last = path
        target = meta
        for key in keys:
            target = target[key]
        target[last] = value

    return change


def _crafted(entries):
    """(name, entries or a path, message) for every crafted case."""
    weights0 = dict(entries)["weights/0.npy"]
    header0 = weights0[: len(weights0) - 3 * 8 * 4]

    def swap(name, data):
        return [(n, data if n == name else d) for n, d in entries]

    zeros, spaces = b"\0" * (1 << 20), b" " * (1 << 20)
    return [
        # 1 GiB of zeros behind a header that claims them: refused at the header.
        ("huge-weights", swap("weights/0.npy", repeated(npy_header((GIB // 4,)) + zeros, GIB)),
         r"weights/0.npy is larger than an array of shape \(3, 8\) can be"),
        # The right header, then 1 GiB more: refused by its declared size.
        ("trailing-data", swap("weights/0.npy", _chain(header0, repeated(zeros, GIB))),
         r"weights/0.npy is larger than an array of shape \(3, 8\) can be"),
        # The right header and too few bytes of data.
        ("short-data", swap("weights/0.npy", header0 + b"\0" * 50),
         r"weights/0.npy holds 50 bytes of data; its shape \(3, 8\) needs 96"),
        ("padded-json", [(n, _chain(d, repeated(spaces, GIB)) if n == "model.json" else d)
                         for n, d in entries], r"model.json is larger than"),
        ("nested-json", swap("model.json", b"[" * 200_000 + b"]" * 200_000),
         r"model.json holds 200000 lists or objects"),
        # Deeper than json's recursion limit (RecursionError), and than 16.
        ("nested-5000", swap("model.json", b"[" * 5_000 + b"]" * 5_000),
         r"model.json nests lists or objects too deeply"),
        ("nested-20", swap("model.json", b"[" * 20 + b"]" * 20),
         r"model.json nests lists or objects more than 16 deep"),
        ("epoch-1e30", edited(entries, _set(["history_", "epoch", 0], 1e30)),
         r"history_ epochs 1 to n_iter_"),
        ("npy-10^12", swap("weights/0.npy", npy_header((10**12,))),
         r"holds float32 of shape \(1000000000000,\)"),
        ("duplicate-weights", [*entries, ("weights/0.npy", npy(np.ones((3, 8), "f4")))],
         r"'weights/0.npy' more than once"),
        ("duplicate-json", [*edited(entries, _set(["feature_names_in_"], ["c", "b", "a"])),
                            ("model.json", dict(entries)["model.json"])],
         r"'model.json' more than once"),
        ("nan-weights", swap("weights/0.npy", npy(np.full((3, 8), np.nan, "f4"))),
         r"NaN or infinite weights"),
        ("inf-weights", swap("weights/1.npy", npy(np.full(8, np.inf, "f4"))),
         r"NaN or infinite weights"),
        ("nan-scale", edited(entries, _set(["x_scaler_", "scale_", 0], float("nan"))),
         r"not valid JSON: NaN is not a JSON number"),
        ("zero-scale", edited(entries, _set(["x_scaler_", "scale_", 0], 0.0)),
         r"scale_ > 0"),
        ("huge-number", edited(entries, _set(["n_iter_"], 10**30)),
         r"history_ epochs 1 to n_iter_"),
        ("path-like-member", [*entries, ("../weights/0.npy", b"x")],
         r"unexpected members '../weights/0.npy'"),
        ("extra-weights", [*entries, ("weights/7.npy", npy(np.ones(2, "f4")))],
         r"'weights/7.npy', which the architecture"),
        ("device", "/dev/zero", r"not a regular file"),
        # zipfile bounds no read of bzip2 or LZMA: refused before reading.
        ("bzip2-member", [(n, (d, zipfile.ZIP_BZIP2) if n == "weights/0.npy" else d)
                          for n, d in entries], r"weights/0.npy uses compression method 12"),
        ("npy-v2-header-length", swap("weights/0.npy", b"\x93NUMPY\x02\x00"
                                      + struct.pack("<I", 2**31) + b"{}"),
         r"header of 2147483648 bytes claimed"),
        ("many-containers", swap("model.json", b"[" + b"{}," * 5_000_000 + b"{}]"),
         r"model.json holds 5000002 lists or objects"),
        ("utf-16-json", swap("model.json", dict(entries)["model.json"].decode().encode("utf-16")),
         r"model.json is not valid JSON"),
        ("params-as-pairs", edited(entries, lambda m: m.update(params=list(m["params"].items()))),
         r"params to be an object"),
        ("nested-sizes", edited(entries, _set(["params", "hidden_layer_sizes"], [[8]])),
         r"hidden_layer_sizes to be a list of ints"),
        ("callbacks-in-file", edited(entries, _set(["params", "callbacks"], [{"a": 1}])),
         r"callbacks to be null"),
        ("repeated-feature-names", edited(entries, _set(["feature_names_in_"], ["a", "a", "b"])),
         r"3 distinct feature names"),
        ("directory-offset", ("directory-offset", entries), r"damaged or malformed \(OSError"),
    ]  # fmt: skip


def _chain(first, rest):
    yield first
    yield from rest


# Peak RSS from VmHWM: ru_maxrss would carry over the RSS of the process that
# started this one (Linux keeps it across exec), here pytest's with TensorFlow.
_PEAK_MIB = """
def peak_mib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
"""

_CHILDREN = (
    _PEAK_MIB
    + """
import json, os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, resource.RLIM_INFINITY))
from kerasreg import load
for path in sys.argv[1:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            load(path)
            outcome = "loaded"
        except ValueError as e:
            outcome = "ValueError: " + str(e)
        except BaseException as e:
            outcome = type(e).__name__ + ": " + str(e)
        rss = peak_mib()
        os.write(write, json.dumps([outcome, rss]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        print(json.dumps([path, *json.loads(f.read() or '["died", 0]')]))
    os.waitpid(pid, 0)
"""
)


@pytest.fixture(scope="module")
def crafted(original, tmp_path_factory):
    folder = tmp_path_factory.mktemp("crafted")
    cases = []
    for name, entries, message in _crafted(members(original)):
        if isinstance(entries, str):
            path = entries
        elif isinstance(entries[0], str):  # a file damaged after writing
            path = str(_damaged(folder / f"{name}.kr", *entries))
        else:
            path = str(write(folder / f"{name}.kr", entries))
        cases.append((name, path, message))
    return cases


def _damaged(path, how, entries):
    write(path, entries)
    data = bytearray(path.read_bytes())
    if how == "directory-offset":
        # The end record's central-directory offset past its real place:
        # zipfile then computes negative member offsets (OSError on seek).
        end = data.rfind(b"PK\x05\x06")
        offset = struct.unpack("<I", data[end + 16 : end + 20])[0]
        data[end + 16 : end + 20] = struct.pack("<I", offset + 10_000)
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def outcomes(crafted):
    """{case: (outcome, peak RSS in MiB)}, each loaded under the address-space limit."""
    script = _CHILDREN.format(limit=ADDRESS_SPACE)
    result = subprocess.run(
        [sys.executable, "-c", script, *(path for _, path, _ in crafted)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    by_path = {
        path: (outcome, rss)
        for path, outcome, rss in map(json.loads, result.stdout.split("\n")[:-1])
    }
    return {name: by_path[path] for name, path, _ in crafted}


@pytest.mark.integration
def test_each_crafted_file_is_one_value_error_in_bounded_memory(crafted, outcomes):
    problems = []
    for name, path, message in crafted:
        outcome, rss = outcomes[name]
        if not outcome.startswith(f"ValueError: Cannot load {path!r} as a kerasreg model: "):
            problems.append(f"{name}: {outcome[:300]}")
        elif not pd.Series([outcome]).str.contains(message).iloc[0]:
            problems.append(f"{name}: message {outcome[:300]!r} lacks {message!r}")
        if rss > RSS_LIMIT_MIB:
            problems.append(f"{name}: peak RSS {rss:.0f} MiB")
    assert not problems, "\n".join(problems)


@pytest.mark.integration
def test_the_command_line_answers_each_crafted_file_in_one_line(crafted, tmp_path, capsys):
    csv = tmp_path / "rows.csv"
    pd.DataFrame({"a": [0.1], "b": [0.2], "c": [0.3]}).to_csv(csv, index=False)
    # read_metadata refuses the files whose members are wrong.
    paths = {name: path for name, path, _ in crafted}
    for name in ("duplicate-json", "bzip2-member", "path-like-member", "device"):
        with pytest.raises(ValueError, match="Cannot load"):
            read_metadata(paths[name])
    for name, path, _ in crafted:
        status = main(["predict", path, str(csv)])
        out, err = capsys.readouterr()
        assert status == 2, name
        assert err.startswith("kerasreg: error: Cannot load") and err.count("\n") == 1, (name, err)
        assert out == ""


_WIDE_PREDICT = (
    _PEAK_MIB
    + """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, resource.RLIM_INFINITY))
from kerasreg.cli import main
status = main(["predict", sys.argv[1], sys.argv[2], "-o", sys.argv[3]])
print(status, peak_mib())
"""
)


@pytest.mark.integration
def test_a_very_wide_network_predicts_in_bounded_memory(original, tmp_path):
    # A consistent 3 -> 100,000 -> 1 network of zero weights is a few KB:
    # predicting 2,000 rows at once would take 1.6 GB of activations.
    entries = edited(members(original), _set(["params", "hidden_layer_sizes"], [100_000]))
    shapes = [(3, 100_000), (100_000,), (100_000, 1), (1,)]
    weights = [(f"weights/{i}.npy", npy(np.zeros(s, "f4"))) for i, s in enumerate(shapes)]
    path = write(tmp_path / "wide.kr", [e for e in entries if e[0] == "model.json"] + weights)
    assert path.stat().st_size < 20_000
    csv = tmp_path / "rows.csv"
    pd.DataFrame(np.ones((2000, 3)), columns=["a", "b", "c"]).to_csv(csv, index=False)
    result = subprocess.run(
        [sys.executable, "-c", _WIDE_PREDICT.format(limit=ADDRESS_SPACE), str(path), str(csv),
         str(tmp_path / "out.csv")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    status, rss = result.stdout.split()
    assert status == "0" and float(rss) < RSS_LIMIT_MIB
    assert len(pd.read_csv(tmp_path / "out.csv")) == 2000


def _mutations():
    flip = st.tuples(st.just("flip"), st.lists(st.tuples(st.integers(0), st.integers(1, 255)),
                                                min_size=1, max_size=4))  # fmt: skip
    cut = st.tuples(st.just("truncate"), st.integers(0))
    shuffle = st.tuples(st.just("shuffle"), st.randoms(use_true_random=False))
    return st.one_of(flip, cut, shuffle)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_mutations())
def test_damaged_files_fail_with_value_error_or_load_the_same_model(
    original, fitted, tmp_path_factory, mutation
):
    data = bytearray(original.read_bytes())
    kind, arg = mutation
    target = tmp_path_factory.mktemp("fuzz") / "m.kr"
    if kind == "flip":
        for position, xor in arg:
            data[position % len(data)] ^= xor
        target.write_bytes(bytes(data))
    elif kind == "truncate":
        target.write_bytes(bytes(data[: arg % len(data)]))
    else:
        entries = members(original)
        arg.shuffle(entries)
        write(target, entries)
    try:
        loaded = load(target)
    except ValueError as e:
        assert str(e).startswith(f"Cannot load {str(target)!r} as a kerasreg model: ")
        return
    reg, X = fitted
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    assert loaded.get_params() == reg.get_params()
    assert loaded.history_.equals(reg.history_)
