import hashlib
import os
import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kerasreg.datasets
from kerasreg.datasets import load_cereals, load_red_wine

WINE_FEATURES = [
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
]
CEREAL_COLUMNS = [
    "name",
    "mfr",
    "type",
    "calories",
    "protein",
    "fat",
    "sodium",
    "fiber",
    "carbo",
    "sugars",
    "potass",
    "vitamins",
    "shelf",
    "weight",
    "cups",
    "rating",
]
CEREAL_NUMERIC = CEREAL_COLUMNS[3:]
# (cereal, column) of the cells the source codes as -1.
CEREAL_MISSING = {
    ("Almond Delight", "potass"),
    ("Cream of Wheat (Quick)", "potass"),
    ("Quaker Oatmeal", "carbo"),
    ("Quaker Oatmeal", "sugars"),
}
LOADERS = [load_red_wine, load_cereals]


def test_data_files_match_sources_checksums():
    # The shipped copies must be the files SOURCES.md describes, byte for byte.
    data = files("kerasreg.datasets") / "data"
    sources = (data / "SOURCES.md").read_text(encoding="utf-8")
    expected = dict(re.findall(r"\| `([\w-]+\.csv)` .*\| `([0-9a-f]{64})` \|", sources))
    assert set(expected) == {"red-wine.csv", "cereal.csv"}
    for name, sha256 in expected.items():
        assert hashlib.sha256((data / name).read_bytes()).hexdigest() == sha256


def test_red_wine_arrays():
    wine = load_red_wine()
    assert isinstance(wine.data, np.ndarray)
    assert wine.data.shape == (1599, 11)
    assert wine.data.dtype == np.float64
    assert isinstance(wine.target, np.ndarray)
    assert wine.target.shape == (1599,)
    assert wine.target.dtype == np.float64
    assert wine.feature_names == WINE_FEATURES
    assert wine.target_names == ["quality"]
    assert wine.frame is None
    assert not np.isnan(wine.data).any()
    assert set(wine) == {
        "data",
        "target",
        "feature_names",
        "target_names",
        "frame",
        "DESCR",
    }


def test_red_wine_as_frame():
    wine = load_red_wine(as_frame=True)
    assert isinstance(wine.data, pd.DataFrame)
    assert wine.data.columns.tolist() == WINE_FEATURES
    assert isinstance(wine.target, pd.Series)
    assert wine.target.name == "quality"
    assert wine.frame.shape == (1599, 12)
    assert wine.frame.columns.tolist() == WINE_FEATURES + ["quality"]
    assert (wine.frame.dtypes == np.float64).all()
    pd.testing.assert_frame_equal(wine.data, wine.frame[WINE_FEATURES])
    pd.testing.assert_series_equal(wine.target, wine.frame["quality"])

    arrays = load_red_wine()
    np.testing.assert_array_equal(wine.data.to_numpy(), arrays.data)
    np.testing.assert_array_equal(wine.target.to_numpy(), arrays.target)


def test_red_wine_values():
    # Figures from data/SOURCES.md.
    wine = load_red_wine(as_frame=True)
    counts = wine.target.value_counts().sort_index()
    assert counts.to_dict() == {3: 10, 4: 53, 5: 681, 6: 638, 7: 199, 8: 18}
    assert wine.target.mean() == pytest.approx(5.6360, abs=5e-5)
    assert wine.data["alcohol"].mean() == pytest.approx(10.4230, abs=5e-5)
    assert wine.frame.duplicated().sum() == 240
    np.testing.assert_array_equal(
        wine.frame.iloc[0],
        [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4, 5],
    )
    # A full-precision value that some copies of the data set round.
    assert (wine.data["alcohol"] == 10.0333333333333).sum() > 0


def test_cereals_arrays():
    cereals = load_cereals()
    numeric_features = [c for c in CEREAL_NUMERIC if c != "calories"]
    assert isinstance(cereals.data, np.ndarray)
    assert cereals.data.shape == (77, 12)
    assert cereals.data.dtype == np.float64
    assert cereals.target.shape == (77,)
    assert cereals.target.dtype == np.float64
    assert cereals.feature_names == numeric_features
    assert cereals.target_names == ["calories"]
    assert cereals.frame is None


def test_cereals_as_frame():
    cereals = load_cereals(as_frame=True)
    features = [c for c in CEREAL_COLUMNS if c != "calories"]
    assert isinstance(cereals.data, pd.DataFrame)
    assert cereals.data.shape == (77, 15)
    assert cereals.feature_names == features
    assert cereals.data.columns.tolist() == features
    assert isinstance(cereals.target, pd.Series)
    assert cereals.target.name == "calories"
    assert cereals.target.dtype == np.float64

    frame = cereals.frame
    assert frame.columns.tolist() == CEREAL_COLUMNS
    pd.testing.assert_frame_equal(cereals.data, frame[features])
    pd.testing.assert_series_equal(cereals.target, frame["calories"])

    assert isinstance(frame["mfr"].dtype, pd.CategoricalDtype)
    assert frame["mfr"].cat.categories.tolist() == list("AGKNPQR")
    assert isinstance(frame["type"].dtype, pd.CategoricalDtype)
    assert frame["type"].cat.categories.tolist() == ["C", "H"]
    assert pd.api.types.is_string_dtype(frame["name"])
    assert not isinstance(frame["name"].dtype, pd.CategoricalDtype)
    assert frame["name"].is_unique
    assert (frame[CEREAL_NUMERIC].dtypes == np.float64).all()

    # The numeric part of the frame is the array returned with as_frame=False.
    arrays = load_cereals()
    np.testing.assert_array_equal(cereals.data[arrays.feature_names].to_numpy(), arrays.data)


def test_cereals_missing_values():
    frame = load_cereals(as_frame=True).frame.set_index("name")
    missing = frame.isna().stack()
    assert set(missing[missing].index) == CEREAL_MISSING
    # No -1 code is left behind.
    assert not (frame.select_dtypes("number") == -1).any().any()

    # The arrays carry the same NaN cells.
    cereals = load_cereals()
    array_missing = pd.DataFrame(
        np.isnan(cereals.data), index=frame.index, columns=cereals.feature_names
    ).stack()
    assert set(array_missing[array_missing].index) == CEREAL_MISSING


def test_cereals_values():
    # Figures from data/SOURCES.md.
    frame = load_cereals(as_frame=True).frame
    assert frame["calories"].mean() == pytest.approx(106.8831, abs=5e-5)
    assert frame["rating"].mean() == pytest.approx(42.6657, abs=5e-5)
    assert frame["type"].value_counts().to_dict() == {"C": 74, "H": 3}
    all_bran = frame.set_index("name").loc["All-Bran with Extra Fiber"]
    assert all_bran[["mfr", "type"]].tolist() == ["K", "C"]
    expected = [50, 4, 0, 140, 14, 8, 0, 330, 25, 3, 1, 0.5, 93.704912]
    assert all_bran[CEREAL_NUMERIC].astype(float).tolist() == expected
    # Names that contain semicolons, in the Kaggle spelling.
    assert "Muesli Raisins; Dates; & Almonds" in frame["name"].tolist()


@pytest.mark.parametrize("target", CEREAL_NUMERIC)
def test_cereals_target_selection(target):
    cereals = load_cereals(target=target)
    frame = load_cereals(target=target, as_frame=True).frame
    assert cereals.target_names == [target]
    assert target not in cereals.feature_names
    assert cereals.data.shape == (77, 12)
    np.testing.assert_array_equal(cereals.target, frame[target].to_numpy())

    X, y = load_cereals(target=target, as_frame=True, return_X_y=True)
    assert y.name == target
    assert X.shape == (77, 15)
    assert target not in X.columns


@pytest.mark.parametrize("target", ["name", "mfr", "type", "Calories", "", None])
def test_cereals_bad_target(target):
    with pytest.raises(ValueError, match="Expected `target`") as excinfo:
        load_cereals(target=target)
    message = str(excinfo.value)
    assert f"Received: target={target!r}" in message
    assert str(CEREAL_NUMERIC) in message


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("as_frame", [False, True])
def test_return_X_y(loader, as_frame):
    X, y = loader(return_X_y=True, as_frame=as_frame)
    bunch = loader(as_frame=as_frame)
    if as_frame:
        assert isinstance(X, pd.DataFrame)
        assert isinstance(y, pd.Series)
        pd.testing.assert_frame_equal(X, bunch.data)
        pd.testing.assert_series_equal(y, bunch.target)
    else:
        assert isinstance(X, np.ndarray) and X.dtype == np.float64
        assert isinstance(y, np.ndarray) and y.dtype == np.float64 and y.ndim == 1
        np.testing.assert_array_equal(X, bunch.data)
        np.testing.assert_array_equal(y, bunch.target)
    assert X.shape[1] == len(bunch.feature_names)


@pytest.mark.parametrize("loader", LOADERS)
def test_keyword_only(loader):
    with pytest.raises(TypeError):
        loader(True)


@pytest.mark.parametrize(
    "loader, citation, licence",
    [
        (load_red_wine, "doi:10.1016/j.dss.2009.05.016", "CC BY 4.0"),
        (load_cereals, "Chris Crawford", "CC BY-SA 3.0"),
    ],
)
def test_descr_ends_with_citation_and_licence(loader, citation, licence):
    descr = loader().DESCR
    assert descr == loader(as_frame=True).DESCR
    _, sep, references = descr.partition("References / licence")
    assert sep
    references = " ".join(references.split())
    assert citation in references
    assert "Licence:" in references
    assert licence in references


def test_cereals_descr_mentions_missing_values():
    descr = load_cereals().DESCR
    assert "-1" in descr and "NaN" in descr
    for name, column in CEREAL_MISSING:
        assert name in descr and column in descr


def test_import_does_not_import_tensorflow(tmp_path):
    # A fresh interpreter: this test process may already have imported it.
    root = Path(kerasreg.datasets.__file__).parents[2]
    pythonpath = [str(root), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, pythonpath))}
    code = "import kerasreg.datasets, sys; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=env)
