"""Print the package import graph of the project as a plain Markdown listing (for docs/architecture.md).

    python docs/import_graph.py [ROOT]

A package is a top-level folder (``dashboard``, ``training``, ``benchmarks``) or a sub-package of
``monitor`` (``monitor.store``, ``monitor.views`` ...); the modules directly in ``monitor/`` form the
package ``monitor``. Every ``import`` counts, at module level or inside a function.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

TOP = ("monitor", "dashboard", "training", "benchmarks")


def package_of(module: str) -> str | None:
    """``monitor.store.db`` -> ``monitor.store``; ``monitor.worker`` -> ``monitor``; else the top folder."""
    parts = module.split(".")
    if parts[0] not in TOP:
        return None
    if parts[0] == "monitor" and len(parts) > 1 and parts[1] in SUBPACKAGES:
        return f"monitor.{parts[1]}"
    return parts[0]


SUBPACKAGES: set[str] = set()


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x
                anchor = module.split(".")[: -node.level or None]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def graph(root: Path) -> dict[str, dict[str, int]]:
    SUBPACKAGES.update(p.name for p in (root / "monitor").iterdir() if (p / "__init__.py").is_file())
    edges: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for top in TOP:
        for path in sorted((root / top).rglob("*.py")):
            module = module_name(root, path)
            source = package_of(module)
            targets = {package_of(m) for m in imports_of(path, module)} - {None, source}
            edges[source]  # a package that imports nothing is listed too
            for target in targets:
                edges[source][target] += 1  # modules of ``source`` importing ``target``
    return edges


def listing(root: Path) -> str:
    edges = graph(root)
    lines = []
    for source in sorted(edges):
        targets = ", ".join(f"{t} ({n})" for t, n in sorted(edges[source].items())) or "nothing"
        lines.append(f"- `{source}` imports {targets}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(listing(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])))
