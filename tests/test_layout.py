"""The package's shape: no import cycles, modules readable alone."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kerasreg"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """kerasreg modules a file imports, at module level or inside functions."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from . import step` depends on the submodule, not on the package.
            targets = [(module, f"{module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [(a.name, a.name) for a in node.names]
        else:
            continue
        found.update(t for t in targets if t[0].startswith("kerasreg"))
    return found


def _graph():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = {sub if sub in modules else module for module, sub in _imports(path)}
        graph[name] = {m for m in targets if m in modules and m != name}
    return graph


def test_no_import_cycles():
    graph = _graph()
    # The package __init__ only names what loads lazily: importing a
    # submodule through it is not a dependency on the others.
    graph["kerasreg"] = set()
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle = path[path.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def _code_lines(path):
    """Lines that are not docstrings, comments or blank."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(
            node
        ):
            first = node.body[0]
            docstrings.update(range(first.lineno, first.end_lineno + 1))
    return sum(
        1
        for i, line in enumerate(source.splitlines(), 1)
        if i not in docstrings and line.strip() and not line.strip().startswith("#")
    )


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_modules_are_small(path):
    # About 300 lines of code at most (docstrings and comments aside).
    assert _code_lines(path) <= 320
