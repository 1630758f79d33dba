"""The source keeps the seams issue 14 item 28 split it along: one job per file (about 600 lines at most) in the data
layer, the tree's model and the sim, and none of the import circles the split removed comes back.

Read from the source with :mod:`ast` (nothing is imported), so a type-only import counts too: it is the circle
a reader follows.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "kube9_desktop"

#: The developers' guide splits a file at about 600 lines; these packages were split to stay under it.
MAX_LINES = 600
SPLIT_PACKAGES = ("kube", "model", "sim")


def module_name(path: Path) -> str:
    """``kube9_desktop.model.live`` for ``kube9_desktop/model/live.py`` (a package's ``__init__``: the package)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module of ours ``path`` imports, anywhere in the file (type-only and function-level imports too)."""
    return imports_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


def imports_in(source: str, module: str, is_package: bool = False) -> set[str]:
    """The modules of ours that ``source`` (the text of ``module``) imports, relative imports resolved."""
    here = module.split(".")
    package = here if is_package else here[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # "from pkg import module"
    return {m for m in out if m.startswith("kube9_desktop.")}


def test_the_split_packages_keep_one_job_per_file() -> None:
    too_long = {}
    for pkg in SPLIT_PACKAGES:
        for path in sorted((PACKAGE / pkg).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                too_long[str(path.relative_to(PACKAGE))] = lines
    assert too_long == {}, f"split these along their seams: {too_long}"


def test_the_circles_the_split_removed_stay_gone() -> None:
    """live.py drove the tree model it was imported by, churn.py the sim server that started it; the loads the
    model drives now live in a Qt-free loader (model/loader.py) and the server's areas in sim/handlers/."""
    model, sim = PACKAGE / "model", PACKAGE / "sim"
    assert "kube9_desktop.model.tree_model" not in imported(model / "live.py")
    assert "kube9_desktop.sim.server" not in imported(sim / "churn.py")
    assert "kube9_desktop.model.tree_model" not in imported(model / "loader.py")  # the adapter drives the loader
    assert not any(m.startswith("kube9_desktop.sim.server") for m in imported(sim / "router.py"))
    for handler in sorted((sim / "handlers").glob("*.py")):
        assert "kube9_desktop.sim.server" not in imported(handler), handler.name


def test_imports_in_sees_type_only_function_level_and_relative_imports() -> None:
    """What the circles above were made of: imports under ``TYPE_CHECKING`` and inside functions, relative ones."""
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .tree_model import ClusterTreeModel\n"
              "def f():\n    from ..sim import server\n    import yaml\n")
    got = imports_in(source, "kube9_desktop.model.live")
    assert {"kube9_desktop.model.tree_model", "kube9_desktop.sim.server"} <= got
    assert "yaml" not in got and "typing" not in got
    assert module_name(PACKAGE / "model" / "live.py") == "kube9_desktop.model.live"
    assert module_name(PACKAGE / "sim" / "handlers" / "__init__.py") == "kube9_desktop.sim.handlers"
