"""The house of docs/DESIGN.md kept: who may import whom, how long a module, how full a folder.

Imports are read with ``ast`` from every module of the project (inside functions too), so a
late import cannot hide an arrow pointing the wrong way. The direction is
``hub → connectors → graph → policies``, with ``demo`` beside ``connectors``: policies import
nothing of the project, graph only policies, demo and connectors only graph and policies, and
only hub itself, the tests and the benchmarks import hub.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "connectors", "demo", "graph", "policies")
# Which other top-level packages each package may import (itself always).
MAY_IMPORT = {
    "policies": set(),
    "graph": {"policies"},
    "demo": {"graph", "policies"},
    "connectors": {"graph", "policies"},
    "hub": {"connectors", "demo", "graph", "policies"},
    "tests": {"hub", "connectors", "demo", "graph", "policies", "bench"},
    "bench": {"hub", "connectors", "demo", "graph", "policies", "tests"},
}
PROJECT = set(MAY_IMPORT)
MAX_LINES = 450
MAX_MODULES = 16  # .py files in one folder, __init__.py not counted

# Modules allowed past MAX_LINES, each with its reason: none.
KNOWN_LONG: set[str] = set()
KNOWN_FULL: set[str] = set()


def _modules(*tops: str) -> list[Path]:
    found = sorted(p for top in tops for p in (ROOT / top).rglob("*.py"))
    assert found, f"no modules found under {tops}"
    return found


def _imported(path: Path) -> set[str]:
    """The top-level project packages a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.partition(".")[0] for name in names} & PROJECT


def test_imports_follow_the_dependency_direction() -> None:
    wrong = []
    modules = _modules(*MAY_IMPORT)
    for path in modules:
        top = path.relative_to(ROOT).parts[0]
        for imported in sorted(_imported(path) - MAY_IMPORT[top] - {top}):
            wrong.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not wrong, "imports against the direction of DESIGN.md:\n" + "\n".join(wrong)


def test_the_direction_is_read_from_real_imports() -> None:
    """The check above sees imports at all, late ones included (it could pass on none)."""
    assert _imported(ROOT / "graph" / "rating.py") == {"graph", "policies"}
    assert "policies" in _imported(ROOT / "hub" / "settings.py")


def test_no_module_is_too_long() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules(*PACKAGES)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    offenders = sorted(f"{name} ({lines} lines)" for name, lines in long.items())
    unexpected = [o for o in offenders if o.split(" ")[0] not in KNOWN_LONG]
    assert not unexpected, f"modules over {MAX_LINES} lines:\n" + "\n".join(unexpected)


def test_no_package_folder_is_too_full() -> None:
    counts: defaultdict[str, int] = defaultdict(int)
    for path in _modules(*PACKAGES):
        if path.name != "__init__.py":
            counts[str(path.parent.relative_to(ROOT))] += 1
    full = sorted(f"{folder} ({n} modules)" for folder, n in counts.items() if n > MAX_MODULES)
    unexpected = [f for f in full if f.split(" ")[0] not in KNOWN_FULL]
    assert not unexpected, f"folders over {MAX_MODULES} modules:\n" + "\n".join(unexpected)
