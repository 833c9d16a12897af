"""The package's shape, read from its source (ast): no import cycle, no overlong function.

Import rule. Every `import` of a `pipelines` module counts, wherever it is written: at module
level, in a class body, or inside a function. A function-level (lazy) import is there to
defer a heavy library (great_expectations, plotly, nbclient, apscheduler, playwright…) or to
keep `vigie --help` quick; it must never be the way around a cycle, so it is an edge of the
graph like any other. Importing `pipelines.a.b` also runs `pipelines/a/__init__.py`: that is
an edge to `pipelines.a` too. The graph of `pipelines` must have no cycle.

Length rule. No function in `pipelines/` is longer than MAX_LINES lines (from its `def` to its
last line) unless a comment `# long: <reason>` is on its `def` line or on the line above.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pipelines"
MAX_LINES = 60


def package_modules(root: Path = ROOT) -> dict[str, Path]:
    """`pipelines.x.y` -> its file, for the `pipelines` package under `root`."""
    out = {}
    for path in sorted((root / "pipelines").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _known(name: str, modules) -> str | None:
    """The module `name` is, or the package that holds it (`pipelines.x.CONST` -> `pipelines.x`)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(node: ast.Import | ast.ImportFrom, me: str, is_package: bool, modules) -> list[str]:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from . import x, from ..y import z
            anchor = me.split(".") if is_package else me.split(".")[:-1]
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join(anchor + ([node.module] if node.module else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    found = []
    for name in names:
        if name.split(".")[0] != "pipelines":
            continue
        target = _known(name, modules)
        while target and target != "pipelines":  # the packages on the way run their __init__
            found.append(target)
            target = target.rpartition(".")[0]
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {module it imports: line of the first such import}."""
    graph: dict[str, dict[str, int]] = {}
    for me, path in modules.items():
        edges = graph.setdefault(me, {})
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _imported(node, me, path.name == "__init__.py", modules):
                    if target != me and not me.startswith(target + "."):  # a package's own parents
                        edges.setdefault(target, node.lineno)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while component[-1:] != [v]:
                component.append(stack.pop())
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_one_cycle(graph, set(c), c[0]) for c in components]


def _one_cycle(graph, members: set[str], start: str) -> list[str]:
    """A shortest path start -> ... -> start inside one component (breadth first)."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w == start:
                return paths[v] + [start]
            if w in members and w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    raise AssertionError(f"{start} is in no cycle")


def describe(graph, cycle: list[str]) -> str:
    return " -> ".join(f"{a} (ligne {graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)) + f" -> {cycle[-1]}"


def long_functions(modules: dict[str, Path], root: Path = ROOT) -> list[str]:
    """`file:line name (n lignes)` of each function over MAX_LINES lines with no `# long:` reason."""
    found = []
    for path in modules.values():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = node.end_lineno - node.lineno + 1
            said = " ".join(lines[max(node.lineno - 2, 0): node.lineno])
            if length > MAX_LINES and "# long:" not in said:
                found.append((str(path.relative_to(root)), node.lineno, node.name, length))
    return [f"{file}:{line} {name} ({length} lignes)" for file, line, name, length in sorted(found)]


def test_no_import_cycle_in_pipelines():
    graph = import_graph(package_modules())
    found = [describe(graph, c) for c in cycles(graph)]
    assert not found, "import cycles:\n" + "\n".join(found)


def test_the_graph_sees_lazy_relative_and_package_imports(tmp_path):
    """The walker itself: a cycle closed by a function-level import, by a relative import
    and through a package's __init__ is found and named."""
    pkg = tmp_path / "pipelines"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pipelines import b\n")
    (pkg / "b.py").write_text("def f():\n    from pipelines.a import X\n")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\nfrom pipelines import c\n")
    (pkg / "sub" / "leaf.py").write_text("")
    (pkg / "c.py").write_text("import pipelines.sub.leaf\n")
    graph = import_graph(package_modules(tmp_path))
    named = sorted(describe(graph, c) for c in cycles(graph))
    assert named == ["pipelines.a (ligne 1) -> pipelines.b (ligne 2) -> pipelines.a",
                     "pipelines.c (ligne 1) -> pipelines.sub (ligne 2) -> pipelines.c"]


def test_no_function_longer_than_60_lines_without_a_reason():
    found = long_functions(package_modules())
    assert not found, (f"functions over {MAX_LINES} lines (split them, or say why with `# long: <reason>` "
                       "on the def line or the line above):\n" + "\n".join(found))


def test_the_length_rule_itself(tmp_path):
    """61 lines is too long, 60 is not; `# long: <reason>` on the def line or the line above excuses it."""
    (tmp_path / "pipelines").mkdir()

    def function(header: str, lines: int, indent: str = "") -> str:
        body = "".join(f"{indent}    x = {i}\n" for i in range(lines - 2))
        return f"{indent}{header}\n{body}{indent}    return x\n\n"

    source = (function("def fits():", 60) + function("def over():", 61)
              + "# long: one table per line, clearer whole\n" + function("def excused_above():", 61)
              + function("def excused_on_def():  # long: generated", 61)
              + "class K:\n" + function("def method(self):", 61, "    "))
    (tmp_path / "pipelines" / "m.py").write_text(source)
    found = long_functions(package_modules(tmp_path), tmp_path)
    assert [f.split(" ", 1)[1] for f in found] == ["over (61 lignes)", "method (61 lignes)"]
