"""Markdown pieces every table uses: the table itself, numbers, a row that did not run."""

import re

_NUMBER = re.compile(r"^(–|[\d.,]+( ?[×%]| \(\d+\))?)$")


def md_table(headers, rows):
    """A markdown table; columns holding only numbers (or –) are right-aligned."""
    rows = [[str(c) for c in row] for row in rows]

    def align(i):
        cells = [row[i] for row in rows if i < len(row)]
        numeric = cells and all(_NUMBER.match(c) for c in cells) and any(c != "–" for c in cells)
        return "---:" if numeric else "---"

    out = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(align(i) for i in range(len(headers))) + "|",
    ]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def parse_tables(text):
    """The tables ``md_table`` wrote into ``text``: a list of rows as {header: cell}."""
    tables, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("| ") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            headers = _cells(lines[i])
            i += 2
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(dict(zip(headers, _cells(lines[i]), strict=False)))
                i += 1
            tables.append(rows)
        else:
            i += 1
    return tables


def _cells(line):
    return [c.strip() for c in line.strip()[1:-1].split("|")]


def fmt(x, spec=".1f", missing="–"):
    return missing if x is None else format(x, spec)


def status_cell(r):
    """The cell for a contender that did not run, or None if it did."""
    if r is None:
        return "not run"
    if "skipped" in r:
        return r["skipped"]
    if "error" in r:
        return "error: " + r["error"][:200].replace("|", "/").replace("\n", " ")
    return None
