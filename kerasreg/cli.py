"""The ``kerasreg`` command: train, tune and apply the network on CSV files.

Each subcommand is a function from parsed arguments to an exit status.
Problems with the user's input (files, columns, parameter values) end in one
line on stderr, ``kerasreg: error: ...``, and exit status 2; anything else is
a bug and keeps its traceback.

Heavy imports (pandas, scikit-learn, TensorFlow) happen inside the commands,
so that ``kerasreg --help`` answers at once and ``kerasreg predict`` never
loads TensorFlow.
"""

import argparse
import os
import re
import signal
import sys
import threading
import warnings
from pathlib import Path

from . import __version__

DESCRIPTION = """\
Train the Keras regression network (Dense ReLU layers, inputs and target
scaled to [0, 1], Adam, mean absolute error, early stopping) on a CSV file,
tune it by cross-validation, and predict with the saved model.

Models are saved in kerasreg's own format (.kr): a zip of JSON and .npy
arrays that loads without pickle and without TensorFlow."""

EPILOG = """\
examples:
  kerasreg train wine.csv --target quality -o wine.kr
  kerasreg train --dataset red-wine --epochs 30 -o wine.kr
  kerasreg search wine.csv --target quality --width 16,64 --depth 1,2 -o best.kr
  kerasreg predict wine.kr new-wines.csv -o predictions.csv

Run 'kerasreg COMMAND --help' for the options of a command."""

TRAIN_DESCRIPTION = """\
Fit one network on DATA.csv, holding out --validation-fraction of the rows
for early stopping. Print the mean absolute error on those rows, in the
target's units, and save the model (--out), its loss per epoch
(<out>.history.csv) and its learning curve (<out>.png)."""

SEARCH_DESCRIPTION = """\
Cross-validate every combination of the given widths, depths and batch sizes
on DATA.csv (folds shuffled with --random-state, scored by mean absolute
error), print them ranked, and save the best one refitted on all rows
(--out), with every fold's result in <out>.results.csv."""

PREDICT_DESCRIPTION = """\
Predict the target(s) of each row of DATA.csv with a model saved by
'kerasreg train' or 'kerasreg search'. The output is CSV with one column per
target, one row per input row in the same order. Columns the model was not
trained on (the target itself, ids) are ignored. Needs no TensorFlow."""

# The bundled data sets: loader name, and columns that are not features.
DATASETS = {"red-wine": ("load_red_wine", []), "cereals": ("load_cereals", ["name", "mfr", "type"])}


class CommandError(Exception):
    """A problem with the command's input, reported in one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line like every other error, rather than argparse's usage block.
        self.exit(2, f"kerasreg: error: {message} (see '{self.prog} --help')\n")


def main(argv=None):
    """Run the ``kerasreg`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 2 for a usage or input error, 130 when interrupted.

    Examples
    --------
    >>> from kerasreg.cli import main
    >>> main(["predict", "no-such-model.kr", "data.csv"])  # the error goes to stderr
    2
    """
    # Before anything imports TensorFlow; a user's own setting wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as e:  # --help, --version, or a usage error already reported
        return e.code if isinstance(e.code, int) else 0
    args.saved = []
    with warnings.catch_warnings(), _Interrupts() as interrupts:
        warnings.showwarning = _WarningPrinter()
        # A fit keeps what it trained when interrupted; the command saves none of it.
        warnings.filterwarnings("ignore", message="Training interrupted")
        args.interrupts = interrupts
        try:
            return args.command(args)
        except BrokenPipeError:
            # The reader went away (`kerasreg predict ... | head`): stop quietly, and
            # point stdout at devnull so that Python's exit-time flush stays quiet too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except (CommandError, ValueError, OSError) as e:
            print(f"kerasreg: error: {_describe(e)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            saved = ", ".join(map(str, args.saved))
            saved = f"saved before it: {saved}" if saved else "nothing was saved"
            print(f"kerasreg: interrupted; {saved}", file=sys.stderr)
            return 130


class _Interrupts:
    """Ctrl-C during a command: raised as KeyboardInterrupt, and remembered.

    DenseRegressor.fit returns what it trained when interrupted, which suits a
    notebook; the command must stop instead, so it checks after each fit (and
    a search before scoring each fit) whether Ctrl-C came. Where SIGINT is
    ignored (a background job of a shell script), it stays ignored; the
    previous handler is restored after the command.
    """

    def __init__(self):
        self.seen = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
                self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum, frame):
        self.seen = True
        raise KeyboardInterrupt

    def check(self):
        """Raise KeyboardInterrupt if Ctrl-C came during the command."""
        if self.seen:
            raise KeyboardInterrupt


def _build_parser():
    parser = _Parser(
        prog="kerasreg",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kerasreg {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    train = commands.add_parser(
        "train",
        help="fit one network, report its validation MAE, save it",
        description=TRAIN_DESCRIPTION,
        epilog="examples:\n"
        "  kerasreg train wine.csv --target quality --width 64 --depth 2 -o wine.kr\n"
        "  kerasreg train --dataset cereals --width 16 --depth 1 -o cereals.kr",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(train).add_argument(
        "--validation-csv",
        metavar="VAL.csv",
        help="rows to early-stop on and to report the MAE on, with the same columns as "
        "DATA.csv; then all of DATA.csv is trained on (default: hold out "
        "--validation-fraction of it)",
    )
    net = train.add_argument_group("network")
    net.add_argument(
        "--width", type=int, default=512, metavar="N", help="units per hidden layer (%(default)s)"
    )
    net.add_argument(
        "--depth", type=int, default=3, metavar="N", help="hidden layers (%(default)s)"
    )
    net.add_argument(
        "--batch-size", type=int, default=256, metavar="N", help="rows per batch (%(default)s)"
    )
    _add_training_options(train)
    train.set_defaults(command=_train)

    search = commands.add_parser(
        "search",
        help="grid-search width, depth and batch size by cross-validation",
        description=SEARCH_DESCRIPTION,
        epilog="example:\n"
        "  kerasreg search wine.csv --target quality --width 16,64,256 --depth 1,2,3 \\\n"
        "      --batch-size 32,256 --cv 3 -o best.kr",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(search)
    grid = search.add_argument_group("grid (comma-separated values to try)")
    grid.add_argument(
        "--width",
        type=_int_list,
        default=[512],
        metavar="N,...",
        help="units per hidden layer (512)",
    )
    grid.add_argument(
        "--depth", type=_int_list, default=[3], metavar="N,...", help="hidden layers (3)"
    )
    grid.add_argument(
        "--batch-size", type=_int_list, default=[256], metavar="N,...", help="rows per batch (256)"
    )
    grid.add_argument(
        "--cv", type=int, default=3, metavar="K", help="cross-validation folds (%(default)s)"
    )
    grid.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        metavar="N",
        help="fits to run in parallel, -1 for one per core (1)",
    )
    _add_training_options(search)
    search.set_defaults(command=_search)

    predict = commands.add_parser(
        "predict",
        help="predict with a saved model",
        description=PREDICT_DESCRIPTION,
        epilog="examples:\n  kerasreg predict wine.kr new-wines.csv > predictions.csv\n"
        "  kerasreg predict wine.kr new-wines.csv -o predictions.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument("model", metavar="MODEL.kr", help="a model saved by kerasreg")
    predict.add_argument("data", metavar="DATA.csv", help="rows to predict; - for stdin")
    predict.add_argument(
        "-o", "--out", metavar="FILE", help="write the predictions to FILE rather than stdout"
    )
    predict.set_defaults(command=_predict)
    return parser


def _add_data_options(parser):
    data = parser.add_argument_group("data")
    source = data.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "data", nargs="?", metavar="DATA.csv", help="a CSV file with a header row; - for stdin"
    )
    source.add_argument(
        "--dataset", choices=list(DATASETS), help="a bundled data set instead of DATA.csv"
    )
    data.add_argument(
        "--target",
        action="append",
        metavar="COLUMN",
        help="the column to predict; repeat for several (default for --dataset: "
        "quality, calories); all other columns are the features",
    )
    return data


def _add_training_options(parser):
    fit = parser.add_argument_group("training")
    fit.add_argument(
        "--epochs", type=int, default=500, metavar="N", help="most epochs (%(default)s)"
    )
    fit.add_argument(
        "--patience",
        type=int,
        default=20,
        metavar="N",
        help="epochs without improvement before stopping (%(default)s)",
    )
    fit.add_argument(
        "--min-delta",
        type=float,
        default=0.001,
        metavar="D",
        help="least improvement of the scaled validation MAE (%(default)s)",
    )
    fit.add_argument(
        "--validation-fraction",
        type=float,
        default=0.2,
        metavar="F",
        help="share of the rows held out for early stopping (%(default)s)",
    )
    fit.add_argument(
        "--learning-rate",
        type=float,
        default=0.001,
        metavar="LR",
        help="Adam's step size (%(default)s)",
    )
    fit.add_argument(
        "--random-state",
        type=int,
        default=None,
        metavar="SEED",
        help="an int makes the run reproducible (default: a new seed each run)",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "-o", "--out", required=True, metavar="FILE", help="where to save the model, e.g. model.kr"
    )
    out.add_argument(
        "-q", "--quiet", action="store_true", help="no progress display (results are still printed)"
    )


def _int_list(text):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated ints such as 16,64. Received: {text!r}"
        ) from None
    return values


def _train(args):
    import numpy as np
    from sklearn.model_selection import train_test_split

    from ._persistence import save

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
            _read_csv(args.validation_csv), args.validation_csv, targets, X.columns
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

    save(est, out, target_names=targets)
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


def _search(args):
    import numpy as np
    import pandas as pd
    from sklearn.base import clone
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid

    from ._persistence import save

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

    save(search.best_estimator_, out, target_names=targets)
    args.saved.append(out)
    results_csv = out.with_name(f"{out.stem}.results.csv")
    _write_whole(results_csv, lambda path: results.drop(columns="params").to_csv(path, index=False))
    args.saved.append(results_csv)
    print(f"model:   {out}\nresults: {results_csv}")
    return 0


def _predict(args):
    import pandas as pd

    from ._persistence import load_with_metadata

    if args.out:
        _check_out(args.out)
    est, meta = load_with_metadata(args.model)
    frame = _read_csv(args.data)
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
    est._validate_params()
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
        frame, source, targets = _read_csv(args.data), args.data, args.target
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


def _read_csv(path):
    import pandas as pd

    if path != "-" and not os.path.exists(path):
        raise CommandError(f"{path}: no such file")
    try:
        frame = pd.read_csv(sys.stdin if path == "-" else path)
    except pd.errors.EmptyDataError:
        raise CommandError(f"{path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise CommandError(f"{path} is not a readable CSV file: {e}") from None
    if len(frame) == 0:
        raise CommandError(f"{path} has a header but no rows")
    return frame


def _check_values(frame, source):
    import pandas as pd

    text = [c for c, t in frame.dtypes.items() if not pd.api.types.is_numeric_dtype(t)]
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
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 4))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    history = est.history_
    ax.plot(history.index, history["loss"], label="training")
    ax.plot(history.index, history["val_loss"], label="validation")
    best = est.best_epoch_
    ax.axvline(best, color="grey", linestyle="--", label=f"best epoch ({best})")
    ax.set(xlabel="epoch", ylabel="MAE (target scaled to [0, 1])", title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")


def _import_tensorflow_quietly():
    """Import TensorFlow with the messages it logs while starting held back.

    TensorFlow logs from C++ while loading and probing devices (CUDA not
    found, oneDNN notes) before TF_CPP_MIN_LOG_LEVEL applies, which would bury
    the command's output. They are shown if the import fails, and always when
    the user asks for TensorFlow's info logs (TF_CPP_MIN_LOG_LEVEL below 2).
    """
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") not in ("2", "3"):
        return
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _describe(error):
    """One line for an error: argparse's wording for parameters, file name first for files."""
    message = str(error)
    match = re.match(r"The '(\w+)' parameter of DenseRegressor (.*)", message, re.S)
    if match:
        message = f"argument --{match[1].replace('_', '-')}: {match[2]}"
    elif isinstance(error, OSError) and error.filename:
        message = f"{error.filename}: {error.strerror}"
    return " ".join(message.split())


class _WarningPrinter:
    """Show each warning once, in one line, as ``kerasreg: warning: ...``.

    Python's own once-per-location rule does not hold across the many fits of a
    search, which reset the warnings registry.
    """

    def __init__(self):
        self.shown = set()

    def __call__(self, message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if text not in self.shown:
            self.shown.add(text)
            print(f"kerasreg: warning: {text}", file=sys.stderr)


def _quote(names):
    return ", ".join(repr(str(n)) for n in names)
