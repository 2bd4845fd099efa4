"""Loaders for the data sets shipped in ``kerasreg/datasets/data``."""

from importlib.resources import files

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

# Package resources rather than paths built from __file__, so that the files
# are found inside a zipped or otherwise non-filesystem installation too.
_PACKAGE = "kerasreg.datasets"

# Neither a possible target nor part of the float array of features.
_CEREAL_NON_NUMERIC = ["name", "mfr", "type"]


def _read_csv(file_name, **kwargs):
    with (files(_PACKAGE) / "data" / file_name).open("rb") as f:
        return pd.read_csv(f, **kwargs)


def _load_descr(file_name):
    return (files(_PACKAGE) / "descr" / file_name).read_text(encoding="utf-8")


def _make_bunch(frame, target, descr, *, return_X_y, as_frame):
    features = frame.drop(columns=target)
    if as_frame:
        data, y = features, frame[target]
    else:
        # A float array cannot hold text, so only the numeric features go in.
        features = features.select_dtypes("number")
        data = features.to_numpy(dtype=np.float64)
        y = frame[target].to_numpy(dtype=np.float64)
        frame = None
    feature_names = features.columns.tolist()

    if return_X_y:
        return data, y

    return Bunch(
        data=data,
        target=y,
        frame=frame,
        feature_names=feature_names,
        target_names=[target],
        DESCR=descr,
    )


def load_red_wine(*, return_X_y=False, as_frame=False):
    """Load and return the red wine quality dataset (regression).

    ==============   ==============
    Samples total              1599
    Dimensionality               11
    Features                   real
    Target           integer 3 - 8
    ==============   ==============

    The red "Vinho Verde" part of the UCI Wine Quality data set: 11
    physicochemical measurements of each wine and its sensory ``quality``
    score. This is the data set of the Keras regression lesson.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, returns ``(data, target)`` instead of a Bunch object. See
        below for more information about the `data` and `target` objects.

    as_frame : bool, default=False
        If True, the data is a pandas DataFrame and the target a pandas
        Series. If `return_X_y` is True, then (`data`, `target`) will be
        pandas objects as described below.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : {ndarray, DataFrame} of shape (1599, 11)
            The data matrix, float64. If `as_frame=True`, `data` will be a
            pandas DataFrame.
        target : {ndarray, Series} of shape (1599,)
            The regression target ``quality``, float64. If `as_frame=True`,
            `target` will be a pandas Series.
        feature_names : list of str
            The names of the 11 feature columns, as in the CSV header
            (e.g. ``"fixed acidity"``).
        target_names : list of str
            ``["quality"]``.
        frame : DataFrame of shape (1599, 12) or None
            DataFrame with `data` and `target` if `as_frame=True`, else
            None.
        DESCR : str
            The full description of the dataset, with its citation and
            licence.

    (data, target) : tuple if ``return_X_y`` is True
        A tuple of a 2D ndarray of shape (1599, 11), one row per wine, and a
        1D ndarray of shape (1599,) with the target. If `as_frame=True`,
        `data` is a DataFrame and `target` a Series.

    See Also
    --------
    load_cereals : Load the 80 Cereals dataset (regression).
    sklearn.datasets.fetch_california_housing : A larger regression dataset.

    Notes
    -----
    All columns are loaded as float64, `quality` included. There are no
    missing values. 240 rows duplicate other rows; they are in the original
    data and are kept.

    Data: P. Cortez, A. Cerdeira, F. Almeida, T. Matos and J. Reis, "Modeling
    wine preferences by data mining from physicochemical properties",
    Decision Support Systems 47(4):547-553, 2009, distributed by the UCI
    Machine Learning Repository under the CC BY 4.0 licence. See `DESCR` and
    ``kerasreg/datasets/data/SOURCES.md``.

    Examples
    --------
    >>> from kerasreg.datasets import load_red_wine
    >>> X, y = load_red_wine(return_X_y=True)
    >>> X.shape
    (1599, 11)
    >>> y[:5]
    array([5., 5., 5., 6., 5.])
    >>> wine = load_red_wine(as_frame=True)
    >>> wine.feature_names[:3]
    ['fixed acidity', 'volatile acidity', 'citric acid']
    >>> wine.target.value_counts().sort_index().to_dict()
    {3.0: 10, 4.0: 53, 5.0: 681, 6.0: 638, 7.0: 199, 8.0: 18}
    """
    frame = _read_csv("red-wine.csv", dtype=np.float64)
    return _make_bunch(
        frame,
        "quality",
        _load_descr("red_wine.rst"),
        return_X_y=return_X_y,
        as_frame=as_frame,
    )


def load_cereals(*, target="calories", return_X_y=False, as_frame=False):
    """Load and return the 80 Cereals dataset (regression).

    ==============   =========================================
    Samples total                                           77
    Dimensionality   15 if `as_frame=True`, 12 otherwise
    Features         real, and 3 non-numeric if `as_frame=True`
    Target           real, by default ``calories`` 50 - 160
    ==============   =========================================

    Nutrition facts of 77 breakfast cereals. The Keras regression lesson
    predicts ``calories`` from ``sugars``, ``fiber`` and ``protein``.

    Parameters
    ----------
    target : str, default="calories"
        The column to return as the target: any of the 13 numeric columns
        (``"calories"``, ``"protein"``, ``"fat"``, ``"sodium"``,
        ``"fiber"``, ``"carbo"``, ``"sugars"``, ``"potass"``,
        ``"vitamins"``, ``"shelf"``, ``"weight"``, ``"cups"``,
        ``"rating"``). All the other columns are features.

    return_X_y : bool, default=False
        If True, returns ``(data, target)`` instead of a Bunch object. See
        below for more information about the `data` and `target` objects.

    as_frame : bool, default=False
        If True, the data is a pandas DataFrame with the non-numeric columns
        included (see Notes) and the target a pandas Series. If False, the
        data is a float64 ndarray of the numeric feature columns only:
        ``name``, ``mfr`` and ``type`` are left out. If `return_X_y` is
        True, then (`data`, `target`) will be as described below.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : {ndarray, DataFrame} of shape (77, 12) or (77, 15)
            The 12 numeric feature columns as a float64 ndarray, or, if
            `as_frame=True`, a DataFrame of all 15 feature columns.
        target : {ndarray, Series} of shape (77,)
            The `target` column, float64. If `as_frame=True`, `target` will
            be a pandas Series.
        feature_names : list of str
            The names of the columns of `data`, so they depend on
            `as_frame`.
        target_names : list of str
            ``[target]``.
        frame : DataFrame of shape (77, 16) or None
            If `as_frame=True`, the whole table in the column order of the
            file, else None.
        DESCR : str
            The full description of the dataset, with its citation and
            licence.

    (data, target) : tuple if ``return_X_y`` is True
        The `data` and `target` described above.

    Raises
    ------
    ValueError
        If `target` is not the name of a numeric column.

    See Also
    --------
    load_red_wine : Load the red wine quality dataset (regression).

    Notes
    -----
    With `as_frame=True`, ``mfr`` (manufacturer) and ``type`` (hot or cold)
    have the pandas ``category`` dtype, so that
    ``make_column_selector(dtype_include="category")`` picks them out for an
    encoder, and ``name`` keeps pandas' text dtype: it is a unique
    identifier, not a feature to fit on. All numeric columns are float64.

    The source file codes 4 missing values as ``-1``; they are loaded as
    NaN: ``potass`` of "Almond Delight" and of "Cream of Wheat (Quick)",
    ``carbo`` and ``sugars`` of "Quaker Oatmeal". Impute them or drop these
    rows before fitting a model that does not accept NaN.

    Data: "80 Cereals" (c) by Chris Crawford (Kaggle), from the 1993 ASA
    Statistical Graphics Exposition, licensed under CC BY-SA 3.0. See
    `DESCR` and ``kerasreg/datasets/data/SOURCES.md``.

    Examples
    --------
    >>> from kerasreg.datasets import load_cereals
    >>> X, y = load_cereals(return_X_y=True)
    >>> X.shape, y.shape
    ((77, 12), (77,))
    >>> round(float(y.mean()), 4)
    106.8831
    >>> cereals = load_cereals(as_frame=True)
    >>> cereals.data.shape
    (77, 15)
    >>> oatmeal = cereals.frame.set_index("name").loc["Quaker Oatmeal"]
    >>> oatmeal[["carbo", "sugars"]].isna().tolist()
    [True, True]

    A column transformer for the frame: impute and pass on the numbers,
    one-hot encode the categories, drop ``name``.

    >>> from sklearn.compose import make_column_selector, make_column_transformer
    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> ct = make_column_transformer(
    ...     (SimpleImputer(), make_column_selector(dtype_include="number")),
    ...     (OneHotEncoder(), make_column_selector(dtype_include="category")),
    ... )
    >>> ct.fit_transform(cereals.data).shape
    (77, 21)
    """
    frame = _read_csv("cereal.csv", dtype={"mfr": "category", "type": "category"})
    numeric = frame.columns.drop(_CEREAL_NON_NUMERIC).tolist()
    if target not in numeric:
        raise ValueError(
            "Expected `target` to be the name of a numeric column, one of "
            f"{numeric}. Received: target={target!r}"
        )
    # -1 is the data set's missing-value code; no real value is negative.
    frame[numeric] = frame[numeric].astype(np.float64).replace(-1.0, np.nan)
    return _make_bunch(
        frame,
        target,
        _load_descr("cereals.rst"),
        return_X_y=return_X_y,
        as_frame=as_frame,
    )
