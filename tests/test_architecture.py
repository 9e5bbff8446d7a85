"""The shape of the house, checked from the code's own imports (every import statement, in functions too):
apps stack one way, accounts ← content ← training ← certification, and no modules import each other in a loop
except a service and its own tasks."""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
STACK = ["accounts", "content", "training", "certification"]
# Loops still to be cut, named so that no new one can join them unnoticed.
KNOWN_LOOPS: list[set[str]] = []


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    modules = {}
    for app in STACK:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[_module_name(path)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            # The deepest project module the import names (a name imported from a module counts as that module).
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _loops(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, loops = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                loops.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return loops


def _is_service_and_its_tasks(loop: set[str]) -> bool:
    packages = {name.rpartition(".")[0] for name in loop}
    leaves = {name.rpartition(".")[2] for name in loop}
    return len(packages) == 1 and leaves == {"services", "tasks"}


def test_lower_apps_never_import_higher_ones():
    upward = sorted(
        f"{source} -> {target}"
        for source, targets in _graph().items()
        for target in targets
        if STACK.index(target.split(".")[0]) > STACK.index(source.split(".")[0])
    )
    assert upward == []


def test_no_import_loop_but_a_service_and_its_tasks():
    loops = [loop for loop in _loops(_graph()) if not _is_service_and_its_tasks(loop)]
    assert sorted(map(sorted, loops)) == sorted(map(sorted, KNOWN_LOOPS))


def test_selectors_never_import_services():
    offending = sorted(
        f"{source} -> {target}"
        for source, targets in _graph().items()
        if source.endswith("selectors")
        for target in targets
        if target.endswith("services")
    )
    assert offending == []
