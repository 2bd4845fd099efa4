"""README.md's performance table, generated from benchmarks/RESULTS.md.

The table sits between ``BEGIN`` and ``END`` in README.md. Every number in it is
one of RESULTS.md's (ratios: its targets' or two of its cells divided, rounded
to two decimals); the row names come from RESULTS.md's descriptions too::

    python benchmarks/run.py --readme                 # rewrite README.md's table
    python -m benchmarks.bench.readme --check         # exit 1 if it is out of date

A full run that writes benchmarks/RESULTS.md rewrites the table as well.
"""

import argparse
import re
import sys

from . import contenders
from .harness import README_MD, RESULTS_MD
from .markdown import parse_tables
from .report import target
from .workloads import w3

BEGIN = "<!-- benchmark table: begin -->"
END = "<!-- benchmark table: end -->"
NOTE = (
    "<!-- generated from benchmarks/RESULTS.md by `python benchmarks/run.py --readme`; "
    "edit that, not this -->"
)
HEADERS = [
    "workload",
    "kerasreg",
    "vs Keras `model.fit`",
    "vs MLPRegressor",
    "vs the fastest other",
]


class Section:
    """One ``### `` section of RESULTS.md: its text and its first table's rows."""

    def __init__(self, text):
        self.text = text
        tables = parse_tables(text)
        self.rows = tables[0] if tables else []

    def row(self, column, value):
        return next((r for r in self.rows if r.get(column) == value), {})

    def find(self, pattern):
        match = re.search(pattern, self.text)
        if match is None:
            raise ValueError(f"RESULTS.md: no {pattern!r} in {self.text.splitlines()[0]!r}")
        return match.groups()


def sections(results_text):
    """RESULTS.md's sections by the heading's first word: Targets, W1, ..., Predict, Import."""
    out = {}
    for chunk in re.split(r"^### ", results_text, flags=re.M)[1:]:
        out[chunk.split()[0].rstrip(":")] = Section(chunk)
    return out


def _number(cell):
    match = re.match(r"[\d.]+", (cell or "").replace(",", ""))
    return float(match.group()) if match else None


def _ratio(x):
    """A ratio as the README shows it: two decimals, three where two would show 0.00."""
    if x is None:
        return "–"
    text = f"{x:.2f}"
    return (f"{x:.3f}" if text == "0.00" else text) + "×"


def _divide(a, b):
    a, b = _number(a), _number(b)
    return a / b if a is not None and b else None


def _rows_of(cell):
    """10,000 -> 10k, 1,000,000 -> 1M."""
    n = int(_number(cell))
    if n % 10**6 == 0:
        return f"{n // 10**6}M"
    return f"{n // 1000}k" if n % 1000 == 0 else f"{n:,}"


def table_rows(results_text):
    sec = sections(results_text)
    names = {key: contenders.name_of(key) for key in ("kerasreg", "keras", "mlp", "scikeras")}
    kr, keras, mlp = names["kerasreg"], names["keras"], names["mlp"]
    targets = sec.get("Targets")

    def measured(key):
        row = targets.row("target", target(key).label) if targets else {}
        return row.get("measured", "–")

    def fastest(s):
        """kerasreg's ms/epoch ÷ the lowest other contender's, and that contender."""
        ms = {r["contender"]: _number(r.get("ms/epoch")) for r in s.rows}
        mine, others = ms.pop(kr, None), {n: v for n, v in ms.items() if n != kr and v}
        if not (mine and others):
            return ""
        name = min(others, key=others.get)
        return f"{_ratio(mine / others[name])} ({name})"

    rows = []
    if "W1" in sec:
        s = sec["W1"]
        depth, width, batch = s.find(r"(\d+)×(\d+) ReLU, batch (\d+)")
        ms = s.row("contender", kr).get("ms/epoch", "–")
        rows.append(
            [
                f"W1: {depth}×{width}, batch {batch}, red wine, ms/epoch",
                f"{ms} ({measured('w1_peak_fraction')}: TensorFlow's in-graph matmul rate)",
                _ratio(_number(measured("w1_vs_keras"))),
                _ratio(_number(measured("w1_vs_mlp"))),
                fastest(s),
            ]
        )
    if "W2" in sec:
        s = sec["W2"]
        depth, width, batch = s.find(r"(\d+)×(\d+) ReLU, batch (\d+)")
        ms = s.row("contender", kr).get("ms/epoch", "–")
        rows.append(
            [
                f"W2: {depth}×{width}, batch {batch}, ms/epoch",
                ms,
                _ratio(_divide(ms, s.row("contender", keras).get("ms/epoch"))),
                _ratio(_number(measured("w2_vs_mlp"))),
                fastest(s),
            ]
        )
    if "W3" in sec:
        s = sec["W3"]
        (cv,), (n_cand,) = s.find(r"GridSearchCV\(cv=(\d+)"), s.find(r"\((\d+) candidates?,")
        mine, theirs = s.row("contender", kr), s.row("contender", mlp)
        one = s.row("contender", w3.ONE_THREAD).get("wall (s)")
        rows.append(
            [
                f"W3: GridSearchCV, {n_cand} candidates × {cv} folds, early stopping",
                f"{mine.get('wall (s)', '–')} s, CV MAE {mine.get('best CV MAE', '–')}"
                + (f"; {one} s with `KERASREG_NUM_THREADS=1`" if one not in (None, "–") else ""),
                f"scikeras {_ratio(_number(measured('w3_vs_scikeras')))}",
                f"{_ratio(_number(measured('w3_vs_mlp')))} (MAE {theirs.get('best CV MAE', '–')})",
                "",
            ]
        )
    if "W4" in sec:
        s = sec["W4"]
        depth, width = s.find(r"(\d+)×(\d+) ReLU")
        mine = [r for r in s.rows if r["contender"] == contenders.load("kerasreg").short]
        theirs = {r["rows"]: r for r in s.rows if r["contender"] == contenders.load("mlp").short}
        per_row = [r["µs/row·epoch (best)"] for r in mine]
        vs_mlp = [
            _ratio(_divide(r["µs/row·epoch (best)"], theirs[r["rows"]]["µs/row·epoch (best)"]))
            for r in mine
            if r["rows"] in theirs
        ]
        sizes = " / ".join(_rows_of(r["rows"]) for r in mine)
        rows.append(
            [
                f"W4: {depth}×{width} on {sizes} rows, µs per row and epoch",
                " / ".join(per_row),
                "",
                " / ".join(vs_mlp),
                "",
            ]
        )
    if "W5" in sec:
        s = sec["W5"]
        widths, depths = s.find(r"over width \[(.*?)\] × depth \[(.*?)\]")
        (cv,) = s.find(r"cv=(\d+)")
        one, two = s.row("n_jobs", "1"), s.row("n_jobs", "2")
        speed_up = two.get("speed-up vs n_jobs=1", "–")
        verdict = "slower" if (_number(speed_up) or 0) < 1 else "faster"
        rows.append(
            [
                f"W5: width {{{widths}}} × depth {{{depths}}}, cv={cv}, defaults: "
                "`n_jobs=2` vs `n_jobs=1`",
                f"{two.get('search wall (s)', '–')} s vs {one.get('search wall (s)', '–')} s "
                f"({speed_up}: {verdict})",
                "",
                "",
                "",
            ]
        )
    if "Predict" in sec:
        s = sec["Predict"]
        one_row = "1 row (ms, median)"
        mine = s.row("call", "kerasreg predict").get(one_row, "–")
        theirs = s.row("call", "sklearn MLPRegressor predict").get(one_row, "–")
        rows.append(
            [
                "one-row `predict`",
                f"{mine} ms",
                "",
                f"{_ratio(_divide(mine, theirs))} ({theirs} ms)",
                "",
            ]
        )
    return rows


def table(results_text):
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += [
        "|" + "|".join(f" {c} " if c else " " for c in row) + "|"
        for row in table_rows(results_text)
    ]
    return "\n".join(lines)


def rewrite(readme_text, results_text):
    """README.md's text with the table between the markers generated from RESULTS.md's."""
    start, end = readme_text.find(BEGIN), readme_text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no {BEGIN} ... {END}")
    head, tail = readme_text[: start + len(BEGIN)], readme_text[end:]
    return f"{head}\n{NOTE}\n{table(results_text)}\n{tail}"


def write(readme=README_MD, results=RESULTS_MD):
    """Rewrite the table in ``readme``; True if it changed."""
    old = readme.read_text(encoding="utf-8")
    new = rewrite(old, results.read_text(encoding="utf-8"))
    if new != old:
        readme.write_text(new, encoding="utf-8")
    return new != old


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="only check: exit 1 if out of date")
    args = p.parse_args(argv)
    if args.check:
        old = README_MD.read_text(encoding="utf-8")
        if rewrite(old, RESULTS_MD.read_text(encoding="utf-8")) != old:
            print("README.md's benchmark table differs from benchmarks/RESULTS.md", file=sys.stderr)
            return 1
        return 0
    changed = write()
    print(f"README.md's benchmark table {'rewritten' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
