"""The ``kerasreg`` command's subcommands: train, search and predict, and their input and output.

Each subcommand is a function from parsed arguments (see :mod:`kerasreg.cli`)
to an exit status; problems with the user's input raise :class:`CommandError`.
"""

import os
import sys
from pathlib import Path

# The bundled data sets: loader name, and columns that are not features.
DATASETS = {"red-wine": ("load_red_wine", []), "cereals": ("load_cereals", ["name", "mfr", "type"])}


class CommandError(ValueError):
    """A problem with the command's input, reported in one line."""


def train(args):
    import numpy as np
    from sklearn.model_selection import train_test_split

    out = _check_out(args.out)
    est = _estimator(args, width=args.width, depth=args.depth, batch_size=args.batch_size)
    if args.validation_fraction <= 0 and not args.validation_csv:
        raise CommandError(
            "argument --validation-fraction: train reports the MAE on held-out rows, so it "
            f"must be above 0. Received: {args.validation_fraction}"
        )
    X, y, targets = _load_data(args)
    if args.validation_csv:
        X_train, y_train = X, y
        X_val, y_val = _columns(
            _read_csv(args.validation_csv, args.sep), args.validation_csv, targets, X.columns
        )
    else:
        X_train, X_val, y_train, y_val = train_test_split(
            X, y, test_size=args.validation_fraction, random_state=args.random_state
        )
    _import_tensorflow_quietly()
    est.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    args.interrupts.check()

    errors = est.predict(X_val).reshape(len(X_val), -1) - np.reshape(y_val, (len(y_val), -1))
    maes = ", ".join(f"{t} {m:.4g}" for t, m in zip(targets, np.abs(errors).mean(0), strict=True))
    print(f"validation MAE ({len(X_val)} held-out rows): {maes}")
    print(f"best epoch: {est.best_epoch_} of {est.n_iter_}")

    est.save(out, target_names=targets)
    args.saved.append(out)
    history = out.with_name(f"{out.stem}.history.csv")
    _write_whole(history, est.history_.to_csv)
    args.saved.append(history)
    print(f"model:          {out}\nhistory:        {history}")
    try:
        curve = out.with_name(f"{out.stem}.png")
        network = f"{args.depth} x {args.width} ReLU" if args.depth else "linear unit"
        _write_whole(
            curve, lambda path: _plot_history(est, path, f"{', '.join(targets)}: {network}")
        )
        args.saved.append(curve)
        print(f"learning curve: {curve}")
    except ImportError:
        print("kerasreg: note: no learning curve, matplotlib is not installed", file=sys.stderr)
    return 0


def search(args):
    import numpy as np
    import pandas as pd
    from sklearn.base import clone
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid

    out = _check_out(args.out)
    base = _estimator(args, verbose=0)
    grid = {"width": args.width, "depth": args.depth, "batch_size": args.batch_size}
    for params in ParameterGrid(grid):
        _check_params(clone(base).set_params(**params))
    if args.cv < 2:
        raise CommandError(f"argument --cv: expected at least 2 folds. Received: {args.cv}")
    X, y, targets = _load_data(args)
    mae = get_scorer("neg_mean_absolute_error")

    def score(estimator, X, y):
        # An interrupted fit returns what it trained: stop rather than rank it.
        args.interrupts.check()
        return mae(estimator, X, y)

    search = GridSearchCV(
        base,
        grid,
        scoring=score,
        cv=KFold(args.cv, shuffle=True, random_state=args.random_state),
        n_jobs=args.n_jobs,
        verbose=0 if args.quiet else 1,
        error_score="raise",
    )
    _import_tensorflow_quietly()
    search.fit(X, y)
    args.interrupts.check()  # the refit on all rows

    results = pd.DataFrame(search.cv_results_)
    table = results[["rank_test_score", *(f"param_{k}" for k in grid)]].copy()
    table.columns = ["rank", *grid]
    mae, std = -results.mean_test_score, results.std_test_score
    # Four significant digits for the largest MAE, and as many decimals for all.
    decimals = max(0, 3 - int(np.floor(np.log10(max(mae.abs().max(), 1e-12)))))
    table["mean CV MAE ± std"] = [
        f"{m:.{decimals}f} ± {s:.{decimals}f}" for m, s in zip(mae, std, strict=True)
    ]
    print(table.sort_values("rank", kind="stable").to_string(index=False))
    best = ", ".join(f"{k}={search.best_params_[k]}" for k in grid)
    print(f"best: {best}, refitted on all {len(X)} rows")

    search.best_estimator_.save(out, target_names=targets)
    args.saved.append(out)
    results_csv = out.with_name(f"{out.stem}.results.csv")
    _write_whole(results_csv, lambda path: results.drop(columns="params").to_csv(path, index=False))
    args.saved.append(results_csv)
    print(f"model:   {out}\nresults: {results_csv}")
    return 0


def predict(args):
    import pandas as pd

    from ._persistence import load_with_metadata

    if args.out:
        _check_out(args.out)
    est, meta = load_with_metadata(args.model)
    frame = _read_csv(args.data, args.sep)
    names = getattr(est, "feature_names_in_", None)
    if names is not None:
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise CommandError(
                f"{args.data} lacks the model's feature column(s) {_quote(missing)}; the model "
                f"needs {_quote(names)}"
            )
        X = frame[list(names)]
    elif frame.shape[1] != est.n_features_in_:
        raise CommandError(
            f"{args.model} expects {est.n_features_in_} feature columns. Received: "
            f"{frame.shape[1]} columns in {args.data}"
        )
    else:
        X = frame
    _check_values(X, args.data)
    n = est.n_outputs_
    columns = meta["target_names"] or (
        ["prediction"] if n == 1 else [f"prediction_{i}" for i in range(n)]
    )
    predictions = pd.DataFrame(est.predict(X).reshape(len(X), -1), columns=columns)
    if args.out:
        predictions.to_csv(args.out, index=False)
    else:
        predictions.to_csv(sys.stdout, index=False)
    return 0


def _estimator(args, **params):
    from ._estimator import DenseRegressor

    est = DenseRegressor(
        epochs=args.epochs,
        patience=args.patience,
        min_delta=args.min_delta,
        validation_fraction=args.validation_fraction,
        learning_rate=args.learning_rate,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    ).set_params(**params)
    return _check_params(est)


def _check_params(est):
    """Check the parameters before reading data or training, not after."""
    est._check_params()
    return est


def _load_data(args):
    """The features, target(s) and target names of the command's data."""
    if args.dataset:
        from . import datasets

        loader, drop = DATASETS[args.dataset]
        bunch = getattr(datasets, loader)(as_frame=True)
        # The bundled non-numeric columns are names and codes, not measurements,
        # and the few rows with a missing value are dropped as in the course.
        frame = bunch.frame.drop(columns=drop).dropna()
        source, targets = f"the {args.dataset} dataset", args.target or bunch.target_names
    else:
        frame, source, targets = _read_csv(args.data, args.sep), args.data, args.target
        if not targets:
            raise CommandError(
                f"which column of {source} to predict? Give --target COLUMN, one of: "
                f"{_quote(frame.columns)}"
            )
    X, y = _columns(frame, source, targets)
    return X, y, list(targets)


def _columns(frame, source, targets, features=None):
    """(X, y) of a frame: the target column(s), and the features (by default all others)."""
    missing = [c for c in [*targets, *(features if features is not None else [])]
               if c not in frame.columns]  # fmt: skip
    if missing:
        raise CommandError(
            f"{source} has no column {_quote(missing)}; its columns are: {_quote(frame.columns)}"
        )
    X = frame.drop(columns=targets) if features is None else frame[list(features)]
    if X.shape[1] == 0:
        raise CommandError(f"{source} has no feature columns besides the target")
    _check_values(frame if features is None else frame[[*features, *targets]], source)
    y = frame[targets[0]] if len(targets) == 1 else frame[targets]
    return X, y


# Delimiters a CSV file's header is searched for, when --sep is not given.
_DELIMITERS = (",", ";", "\t", "|")


def _delimiter(header):
    """The delimiter of a header line: the candidate it holds most (outside quotes), or ","."""
    import csv

    def fields(delimiter):
        try:
            return len(next(csv.reader([header], delimiter=delimiter), []))
        except csv.Error:
            return 0

    counts = {d: fields(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=counts.get)
    return best if counts[best] > 1 else ","


def _read_csv(path, sep=None):
    """A DataFrame of a CSV file (or stdin for "-"), its delimiter detected unless given."""
    import io

    import pandas as pd

    if path != "-" and not os.path.exists(path):
        raise CommandError(f"{path}: no such file")
    try:
        if path == "-":
            source = io.StringIO(sys.stdin.read())
            header = source.readline()
            source.seek(0)
        else:
            source = path
            # Universal newlines: \n, \r\n and a lone \r all end the header.
            with open(path, encoding="utf-8") as f:
                header = f.readline()
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not a text file (not UTF-8): not a CSV file") from None
    header = header.lstrip("\ufeff").rstrip("\r\n")
    sep = sep or _delimiter(header)
    try:
        frame = pd.read_csv(source, sep=sep)
    except pd.errors.EmptyDataError:
        raise CommandError(f"{path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise CommandError(
            f"{path} is not a readable CSV file with delimiter {sep!r} ({' '.join(str(e).split())})"
            f"; its first line is {header[:200]!r}. Give the delimiter with --sep"
        ) from None
    if len(frame) == 0:
        raise CommandError(f"{path} has a header but no rows")
    return frame


def _check_values(frame, source):
    from ._validation import non_numeric_columns

    text = non_numeric_columns(frame)
    if text:
        raise CommandError(
            f"{source} has non-numeric column(s) {_quote(text)}; the command line takes numbers "
            "only. Drop them, or encode them in Python: a Pipeline of a ColumnTransformer "
            "(e.g. OneHotEncoder) and DenseRegressor."
        )
    nan = frame.isna().sum()
    if nan.any():
        counts = ", ".join(f"{c!r} ({n} rows)" for c, n in nan[nan > 0].items())
        raise CommandError(f"{source} has missing values in {counts}; drop or impute them first")


def _write_whole(path, write):
    """write(tmp) then rename to path: an interrupted write leaves no partial file."""
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")  # the same suffix, for its format
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _check_out(path):
    """Fail before the work, not after it, when the output cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise CommandError(f"{path} is a directory; give a file name such as {path / 'model.kr'}")
    if not path.parent.is_dir():
        raise CommandError(f"cannot write {path}: no directory {path.parent}")
    return path


def _plot_history(est, path, title):
    # A Figure on the Agg canvas rather than pyplot: no GUI backend, no global state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .plotting import TrainingHistoryDisplay

    fig = Figure(figsize=(7, 4))
    FigureCanvasAgg(fig)
    display = TrainingHistoryDisplay.from_estimator(est, ax=fig.subplots())
    display.ax_.set_title(title)
    fig.savefig(path, dpi=100, bbox_inches="tight")


def _import_tensorflow_quietly():
    """Import TensorFlow before the fits, its start-up messages held (see kerasreg._compat)."""
    from ._compat.startup import import_quietly

    import_quietly("tensorflow")


def _quote(names):
    return ", ".join(repr(str(n)) for n in names)
