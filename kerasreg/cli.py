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
import signal
import sys
import threading
import warnings

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
        except (ValueError, OSError) as e:
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
    from ._cli_commands import DATASETS, predict, search, train
    from ._cli_options import add_parameter_options

    parser = _Parser(
        prog="kerasreg",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kerasreg {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    train_parser = commands.add_parser(
        "train",
        help="fit one network, report its validation MAE, save it",
        description=TRAIN_DESCRIPTION,
        epilog="examples:\n"
        "  kerasreg train wine.csv --target quality --width 64 --depth 2 -o wine.kr\n"
        "  kerasreg train --dataset cereals --width 16 --depth 1 -o cereals.kr",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(train_parser, DATASETS).add_argument(
        "--validation-csv",
        metavar="VAL.csv",
        help="rows to early-stop on and to report the MAE on, with the same columns as "
        "DATA.csv; then all of DATA.csv is trained on (default: hold out "
        "--validation-fraction of it)",
    )
    network = train_parser.add_argument_group("network")
    add_parameter_options(network, ["width", "depth", "batch_size"])
    _add_training_options(train_parser, add_parameter_options)
    train_parser.set_defaults(command=train)

    search_parser = commands.add_parser(
        "search",
        help="grid-search width, depth and batch size by cross-validation",
        description=SEARCH_DESCRIPTION,
        epilog="example:\n"
        "  kerasreg search wine.csv --target quality --width 16,64,256 --depth 1,2,3 \\\n"
        "      --batch-size 32,256 --cv 3 -o best.kr",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(search_parser, DATASETS)
    grid = search_parser.add_argument_group("grid (comma-separated values to try)")
    add_parameter_options(grid, ["width", "depth", "batch_size"], many=True)
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
    _add_training_options(search_parser, add_parameter_options)
    search_parser.set_defaults(command=search)

    predict_parser = commands.add_parser(
        "predict",
        help="predict with a saved model",
        description=PREDICT_DESCRIPTION,
        epilog="examples:\n  kerasreg predict wine.kr new-wines.csv > predictions.csv\n"
        "  kerasreg predict wine.kr new-wines.csv -o predictions.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict_parser.add_argument("model", metavar="MODEL.kr", help="a model saved by kerasreg")
    predict_parser.add_argument("data", metavar="DATA.csv", help="rows to predict; - for stdin")
    predict_parser.add_argument(
        "--sep", metavar="CHAR", help="DATA.csv's delimiter (default: detected from its header)"
    )
    predict_parser.add_argument(
        "-o", "--out", metavar="FILE", help="write the predictions to FILE rather than stdout"
    )
    predict_parser.set_defaults(command=predict)
    return parser


def _add_data_options(parser, datasets):
    data = parser.add_argument_group("data")
    source = data.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "data", nargs="?", metavar="DATA.csv", help="a CSV file with a header row; - for stdin"
    )
    source.add_argument(
        "--dataset", choices=list(datasets), help="a bundled data set instead of DATA.csv"
    )
    data.add_argument(
        "--sep",
        metavar="CHAR",
        help="the CSV files' delimiter (default: detected from the header: , ; tab or |)",
    )
    data.add_argument(
        "--target",
        action="append",
        metavar="COLUMN",
        help="the column to predict; repeat for several (default for --dataset: "
        "quality, calories); all other columns are the features",
    )
    return data


def _add_training_options(parser, add_parameter_options):
    fit = parser.add_argument_group("training")
    add_parameter_options(
        fit,
        ["epochs", "patience", "min_delta", "validation_fraction", "learning_rate", "alpha",
         "random_state"],
    )  # fmt: skip
    out = parser.add_argument_group("output")
    out.add_argument(
        "-o", "--out", required=True, metavar="FILE", help="where to save the model, e.g. model.kr"
    )
    out.add_argument(
        "-q", "--quiet", action="store_true", help="no progress display (results are still printed)"
    )


def _describe(error):
    """One line for an error: argparse's wording for parameters, file name first for files."""
    message = str(error)
    from ._compat import sklearn as sk_compat

    parts = sk_compat.parameter_error(message)
    if parts:
        message = f"argument --{parts[0].replace('_', '-')}: {parts[1]}"
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
