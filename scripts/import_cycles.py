"""Print every import cycle among the first-party packages; exit 1 if there is one.

Reads the source with ``ast`` (nothing is imported), so it sees every import: top-level ones and
those inside functions, which still make a cycle even if Python tolerates them at start-up. A
cycle is a strongly connected component of more than one module in the module import graph.

    python scripts/import_cycles.py [package ...]     # default: the project's apps
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PACKAGES = ("wecare", "contacts", "messaging", "bulk", "ai")


def modules(packages: Iterable[str]) -> dict[str, Path]:
    """Module name -> file, for every .py file under the given packages."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported_names(path: Path, module: str, known: dict[str, Path]) -> set[str]:
    """Every dotted name the module imports, at any depth of its code, relative imports resolved."""
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import sub` imports the module pkg.sub when there is one; it uses the
            # package itself (its __init__) only for a name that is not a module.
            for alias in node.names:
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return names


def graph(found: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the first-party modules it imports (a name resolves to its longest known prefix)."""
    edges: dict[str, set[str]] = {}
    for module, path in found.items():
        targets = set()
        for name in imported_names(path, module, found):
            parts = name.split(".")
            while parts and ".".join(parts) not in found:
                parts.pop()
            target = ".".join(parts)
            # A package's __init__ is imported on the way to its modules; count only direct uses.
            if target and target != module and not (found[target].name == "__init__.py" and target != name):
                targets.add(target)
        edges[module] = targets
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def main(argv: list[str]) -> int:
    edges = graph(modules(argv or DEFAULT_PACKAGES))
    found = cycles(edges)
    for component in found:
        print(f"cycle of {len(component)} modules:")
        for module in component:
            inside = sorted(edges[module] & set(component))
            print(f"  {module} -> {', '.join(inside)}")
    if not found:
        print("no import cycles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
