"""The layout ARCHITECTURE.md promises: every module mapped, no cycles, no private imports
across modules, modules and functions of a readable size."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mmmcal"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _runtime_imports(tree: ast.AST) -> list[ast.ImportFrom | ast.Import]:
    """Imports that run (function bodies included), not those under ``if TYPE_CHECKING:``."""
    found = []

    def visit(node):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _imported(node, modules) -> list[tuple[str, str | None]]:
    """(module, name or None) pairs an import statement takes from the package."""
    if isinstance(node, ast.Import):
        return [(a.name, None) for a in node.names if a.name.startswith("mmmcal")]
    if not (node.module or "").startswith("mmmcal"):
        return []
    pairs = []
    for alias in node.names:
        sub = f"{node.module}.{alias.name}"
        pairs.append((sub, None) if sub in modules else (node.module, alias.name))
    return pairs


def test_architecture_map_lists_every_module():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    listed = set(re.findall(r"`(mmmcal/[\w/]+\.py)`", text)) - {"mmmcal/__init__.py"}
    actual = {
        str(p.relative_to(ROOT)) for p in (ROOT / "mmmcal").rglob("*.py") if p.name != "__init__.py"
    }
    assert listed == actual
    limits = re.search(r"(\d+) lines a module.*?(\d+) lines a function", text, re.S)
    assert limits and tuple(map(int, limits.groups())) == (MAX_MODULE_LINES, MAX_FUNCTION_LINES)


def test_only_the_builder_constructs_pymc_marketing_mmm():
    offenders = [
        p.name
        for p in (ROOT / "mmmcal").rglob("*.py")
        if p.name != "builder.py" and re.search(r"multidimensional import|\bMMM\(", p.read_text())
    ]
    assert offenders == []


def test_no_module_imports_another_module_private_name():
    modules = _modules()
    offenders = []
    for name, path in modules.items():
        for node in _runtime_imports(ast.parse(path.read_text())):
            for module, imported in _imported(node, modules):
                if module != name and imported is not None and imported.startswith("_"):
                    offenders.append(f"{name} imports {module}.{imported}")
    assert offenders == []


def test_no_import_cycle():
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for node in _runtime_imports(ast.parse(path.read_text())):
            for module, _ in _imported(node, modules):
                target = module if module in modules else module.rsplit(".", 1)[0]
                if target in modules and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    # Packages' __init__ modules import nothing of the package but for the facade and the CLI
    # entry point, so a cycle through a package init is a real one.
    state: dict[str, int] = {}
    cycles = []

    def walk(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state and node != "mmmcal":
            walk(node, [node])
    assert cycles == []


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_modules_and_functions_stay_readable(path):
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []
