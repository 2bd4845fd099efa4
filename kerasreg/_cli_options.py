"""The command line's options for DenseRegressor's parameters, read from the estimator itself.

Defaults come from ``DenseRegressor.__init__``'s signature and help texts from
the class docstring's Parameters section, so that no default or description
is written twice. Both are read from the source file (``ast``) rather than by
importing the estimator, which would import scikit-learn and make
``kerasreg --help`` wait a second; a test checks that they equal the imported
class's.
"""

import argparse
import ast
import re
from pathlib import Path

_SOURCE = Path(__file__).with_name("_estimator.py")


def _estimator_class():
    tree = ast.parse(_SOURCE.read_text(encoding="utf-8"))
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "DenseRegressor")


def defaults():
    """``{parameter: default}`` of ``DenseRegressor.__init__``."""
    init = next(n for n in _estimator_class().body if getattr(n, "name", None) == "__init__")
    args = init.args
    positional = args.args[1:]  # without self
    out = {
        a.arg: ast.literal_eval(d)
        for a, d in zip(positional[len(positional) - len(args.defaults) :], args.defaults)
    }
    out.update({a.arg: ast.literal_eval(d) for a, d in zip(args.kwonlyargs, args.kw_defaults)})
    return out


def descriptions():
    """``{parameter: (type, first sentence of its description)}`` from the class docstring."""
    from ._registry import fill_choices

    doc = fill_choices(ast.get_docstring(_estimator_class()))
    section = doc.split("Parameters\n----------\n", 1)[1].split("\n\nAttributes\n", 1)[0]
    out, name = {}, None
    for line in section.splitlines():
        match = re.match(r"(\w+) : (.*)", line)
        if match:
            name, kind = match[1], match[2].split(", default=")[0]
            out[name] = [kind, ""]
        elif name and line.strip():
            out[name][1] += (" " if out[name][1] else "") + line.strip()
    return {n: (kind, _first_sentence(text)) for n, (kind, text) in out.items()}


def _first_sentence(text):
    text = re.sub(r":\w+:`~?([^`]*)`|``([^`]*)``", lambda m: m[1] or m[2], text)
    sentence = re.split(r"(?<=[a-z0-9)])\. ", text, maxsplit=1)[0].rstrip(".")
    return sentence[:1].lower() + sentence[1:]


def _int_list(text):
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated ints such as 16,64. Received: {text!r}"
        ) from None


_TYPES = {"int": int, "float": float}
_METAVARS = {int: "N", float: "X"}


def add_parameter_options(group, names, *, many=False):
    """Add ``--name`` options for estimator parameters to an argparse group.

    With ``many``, each takes comma-separated values (a grid to search).
    Types, defaults and help come from the estimator.
    """
    found, help_texts = defaults(), descriptions()
    for name in names:
        kind, text = help_texts[name]
        type_ = _TYPES[kind.split(",")[0].split(" ")[0]]
        default = found[name]
        shown = "a new seed each run" if default is None else default
        metavar = _METAVARS[type_]
        group.add_argument(
            f"--{name.replace('_', '-')}",
            type=_int_list if many else type_,
            default=[default] if many else default,
            metavar=f"{metavar},..." if many else metavar,
            help=f"{text} ({shown})".replace("%", "%%"),
        )
