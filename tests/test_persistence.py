"""Saving and loading DenseRegressor in kerasreg's own, pickle-free format."""

import copy
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_regression
from sklearn.exceptions import NotFittedError

from kerasreg import DenseRegressor, load, read_metadata

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def frame_model():
    """Fitted on a DataFrame: feature names, a 1-D target, both scalers."""
    X, y = make_regression(n_samples=100, n_features=3, noise=0.5, random_state=0)
    X = pd.DataFrame(X, columns=["alpha", "beta", "gamma"])
    reg = DenseRegressor(width=8, depth=1, epochs=5, batch_size=16, random_state=0)
    return reg.fit(X, y), X


@pytest.fixture(scope="module")
def multi_model():
    """Two outputs, batch norm, no input scaler, no validation data (NaN val_loss)."""
    X, y = make_regression(n_samples=100, n_features=3, n_targets=2, random_state=1)
    reg = DenseRegressor(
        hidden_layer_sizes=(8, 4),
        batch_norm=True,
        scale_inputs=False,
        early_stopping=False,
        epochs=4,
        batch_size=16,
        random_state=0,
    )
    return reg.fit(X, y), X


@pytest.fixture
def saved(frame_model, tmp_path):
    path = tmp_path / "model.kr"
    frame_model[0].save(path, target_names=["y"])
    return path


def rewrite(src, dst, **members):
    """Copy a model file, replacing members (bytes) or dropping them (None)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = members.get(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
    return dst


def edit_json(src, dst, change):
    with zipfile.ZipFile(src) as zf:
        meta = json.loads(zf.read("model.json"))
    change(meta)
    return rewrite(src, dst, **{"model.json": json.dumps(meta)})


@pytest.mark.parametrize("fixture", ["frame_model", "multi_model"])
def test_round_trip_predicts_identically(fixture, request, tmp_path):
    reg, X = request.getfixturevalue(fixture)
    reg.save(tmp_path / "m.kr")
    loaded = load(tmp_path / "m.kr")

    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    assert loaded.predict(X).shape == reg.predict(X).shape
    assert loaded.get_params() == reg.get_params()
    for name in ("n_features_in_", "n_outputs_", "n_iter_", "best_epoch_"):
        assert getattr(loaded, name) == getattr(reg, name)
    pd.testing.assert_frame_equal(loaded.history_, reg.history_)
    assert loaded.model_.get_config() == reg.model_.get_config()
    for a, b in zip(loaded.model_.get_weights(), reg.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for scaler in ("x_scaler_", "y_scaler_"):
        if getattr(reg, scaler) is None:
            assert getattr(loaded, scaler) is None
            continue
        for attr in ("min_", "scale_", "data_min_", "data_max_", "data_range_"):
            np.testing.assert_array_equal(
                getattr(getattr(loaded, scaler), attr), getattr(getattr(reg, scaler), attr)
            )
        assert getattr(loaded, scaler).n_samples_seen_ == getattr(reg, scaler).n_samples_seen_


def test_feature_names_round_trip(frame_model, saved):
    reg, X = frame_model
    loaded = load(saved)
    np.testing.assert_array_equal(loaded.feature_names_in_, ["alpha", "beta", "gamma"])
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(X[["gamma", "beta", "alpha"]])


def test_file_holds_only_json_and_npy(saved):
    with zipfile.ZipFile(saved) as zf:
        names = zf.namelist()
        assert names[0] == "model.json"
        assert all(n.endswith((".json", ".npy")) for n in names)
        for name in names[1:]:
            array = np.load(io.BytesIO(zf.read(name)), allow_pickle=False)
            assert array.dtype == np.float32
        meta = json.loads(zf.read("model.json"))
    assert meta["format"] == "kerasreg.DenseRegressor" and meta["format_version"] == 3
    assert set(meta["written_by"]) >= {"kerasreg", "keras", "tensorflow", "scikit-learn"}
    assert meta["feature_names_in_"] == ["alpha", "beta", "gamma"]
    assert read_metadata(saved)["target_names"] == ["y"]


def test_unsaveable_params_are_stored_as_none_with_a_note(frame_model, tmp_path):
    reg = copy.deepcopy(frame_model[0])
    reg.set_params(random_state=np.random.RandomState(0), callbacks=[object()])
    with pytest.warns(UserWarning, match="cannot be stored as JSON"):
        reg.save(tmp_path / "m.kr")
    loaded = load(tmp_path / "m.kr")
    assert loaded.random_state is None and loaded.callbacks is None
    notes = read_metadata(tmp_path / "m.kr")["notes"]
    assert [n.split("=")[0] for n in notes] == ["callbacks", "random_state"]


def test_save_checks_its_input(frame_model, tmp_path):
    with pytest.raises(NotFittedError):
        DenseRegressor().save(tmp_path / "m.kr")
    with pytest.raises(ValueError, match="one target name per output"):
        frame_model[0].save(tmp_path / "m.kr", target_names=["a", "b"])
    changed = copy.deepcopy(frame_model[0]).set_params(width=16)
    with pytest.raises(ValueError, match="architecture parameters changed since fit"):
        changed.save(tmp_path / "m.kr")
    assert not any(tmp_path.iterdir())


def test_interrupted_save_leaves_the_old_file(frame_model, saved, monkeypatch):
    before = saved.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail)
    with pytest.raises(OSError, match="No space left"):
        frame_model[0].save(saved)
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == ["model.kr"]


def newer(meta):
    meta["format_version"] = 4


def bad_width(meta):
    meta["params"]["width"] = -1


def no_n_iter(meta):
    del meta["n_iter_"]


def foreign(meta):
    meta.clear()
    meta["format"] = "something.else"


def pickled_npy():
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return buf.getvalue()


def wrong_shape_npy():
    buf = io.BytesIO()
    np.save(buf, np.zeros((3, 9), np.float32))
    return buf.getvalue()


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda src, dst: dst.write_bytes(src.read_bytes()[:500]), "not a zip archive"),
        (lambda src, dst: dst.write_bytes(os.urandom(2000)), "not a zip archive"),
        (lambda src, dst: dst.write_bytes(b""), "not a zip archive"),
        (
            lambda src, dst: zipfile.ZipFile(dst, "w").writestr("notes.txt", "hi"),
            "no 'model.json' member",
        ),
        (lambda src, dst: rewrite(src, dst, **{"model.json": b"{not json"}), "not valid JSON"),
        (lambda src, dst: rewrite(src, dst, **{"model.json": b"[1, 2]"}), "not a kerasreg model"),
        (lambda src, dst: edit_json(src, dst, foreign), "not a kerasreg model"),
        (
            lambda src, dst: edit_json(src, dst, newer),
            r"written by a newer kerasreg \(format 4\); upgrade kerasreg",
        ),
        (lambda src, dst: edit_json(src, dst, bad_width), "'width' parameter"),
        (lambda src, dst: edit_json(src, dst, no_n_iter), "missing field 'n_iter_'"),
        (
            lambda src, dst: rewrite(src, dst, **{"weights/1.npy": None}),
            "'weights/1.npy' is missing",
        ),
        (
            lambda src, dst: rewrite(src, dst, **{"weights/0.npy": wrong_shape_npy()}),
            r"weights/0.npy holds float32 of shape \(3, 9\).*needs float of shape \(3, 8\)",
        ),
        (
            lambda src, dst: rewrite(src, dst, **{"weights/2.npy": pickled_npy()}),
            "weights/2.npy is not a plain .npy array",
        ),
    ],
    ids=[
        "truncated",
        "random-bytes",
        "empty",
        "plain-zip",
        "invalid-json",
        "json-not-an-object",
        "foreign-json",
        "newer-format",
        "tampered-param",
        "missing-field",
        "missing-weights",
        "wrong-shape",
        "pickled-weights",
    ],
)
def test_damaged_or_foreign_files_fail_clearly(saved, tmp_path, damage, message):
    bad = tmp_path / "bad.kr"
    damage(saved, bad)
    with pytest.raises(ValueError, match=message) as info:
        load(bad)
    assert str(info.value).startswith(f"Cannot load {str(bad)!r} as a kerasreg model: ")


def test_flipped_bytes_fail_clearly(saved, tmp_path):
    # Flip a byte inside the compressed JSON: zlib or the CRC check must notice.
    data = bytearray(saved.read_bytes())
    data[60] ^= 0xFF
    bad = tmp_path / "bad.kr"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="Cannot load .* as a kerasreg model"):
        load(bad)


def test_loading_needs_no_tensorflow(frame_model, saved, tmp_path):
    reg, X = frame_model
    np.save(tmp_path / "X.npy", X.to_numpy())
    code = f"""
import sys, numpy as np, pandas as pd
import kerasreg
m = kerasreg.load({str(saved)!r})
X = pd.DataFrame(np.load({str(tmp_path / "X.npy")!r}), columns={list(X.columns)!r})
np.save({str(tmp_path / "pred.npy")!r}, m.predict(X))
assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "TensorFlow imported"
"""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=120,
    )
    np.testing.assert_array_equal(np.load(tmp_path / "pred.npy"), reg.predict(X))


@pytest.mark.parametrize("version", [1, 2])
def test_files_of_older_formats_still_load(saved, frame_model, tmp_path, version):
    # Format 1 had no jit_compile parameter, formats 1 and 2 no alpha: they
    # load with the defaults.
    def older(meta):
        meta["format_version"] = version
        del meta["params"]["alpha"]
        if version == 1:
            del meta["params"]["jit_compile"]

    old = tmp_path / "old.kr"
    edit_json(saved, old, older)
    loaded = load(old)
    assert loaded.jit_compile == "auto" and loaded.alpha == 0.0
    X = frame_model[1]
    np.testing.assert_array_equal(loaded.predict(X), load(saved).predict(X))


@pytest.mark.parametrize("with_callbacks", [False, True])
def test_skops_round_trip_trusts_only_kerasreg_types(frame_model, tmp_path, with_callbacks):
    # scikit-learn's safe format: skops reads an estimator's __getstate__,
    # which is plain data (history_ as arrays, no Keras objects).
    import keras
    import skops.io as sio

    reg, X = frame_model
    if with_callbacks:
        reg = copy.deepcopy(reg).set_params(callbacks=[keras.callbacks.EarlyStopping()])
    path = tmp_path / "m.skops"
    if with_callbacks:
        with pytest.warns(UserWarning, match="saved as callbacks=None"):
            sio.dump(reg, path)
    else:
        sio.dump(reg, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert set(untrusted) <= {"kerasreg._estimator.DenseRegressor", "kerasreg._network.NetworkSpec"}
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    assert loaded.history_.equals(reg.history_) and loaded.callbacks is None
    assert loaded.get_params(deep=False) == {**reg.get_params(deep=False), "callbacks": None}
    # pickle keeps everything, callbacks included.
    again = pickle.loads(pickle.dumps(reg))
    assert len(again.callbacks or []) == with_callbacks
    assert again.history_.equals(reg.history_)


def test_a_pickle_of_kerasreg_0_1_0_still_predicts(frame_model):
    # 0.1.0 kept the network as _spec, _weights and _y_ndim.
    reg, X = frame_model
    state = copy.deepcopy(reg.__dict__)
    fitted = state.pop("_fitted")
    state.update(_spec=fitted.spec, _weights=fitted.weights, _y_ndim=fitted.y_ndim)
    old = DenseRegressor.__new__(DenseRegressor)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict(X), reg.predict(X))
