"""moto is imported in one place: crosstrack/local/moto/ (docs/local-aws.md says so)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src" / "crosstrack"
BOUNDARY = SRC / "local" / "moto"


def _moto_imports(tree: ast.AST) -> list[int]:
    """Lines importing moto anywhere in the module (top level, in functions, in branches)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name == "moto" or name.startswith("moto.") for name in names):
            lines.append(node.lineno)
    return lines


def test_the_check_sees_top_level_and_lazy_imports() -> None:
    source = "import json\nimport moto\ndef f():\n    from moto.s3.models import s3_backends\n"
    assert _moto_imports(ast.parse(source)) == [2, 4]
    assert _moto_imports(ast.parse("from crosstrack.local.moto import state\n")) == []


def test_only_the_moto_package_imports_moto() -> None:
    modules = sorted(SRC.rglob("*.py"))
    assert len(modules) > 50  # the tree was found
    offenders = [
        f"{path.relative_to(SRC.parent)}:{line}"
        for path in modules
        if BOUNDARY not in path.parents
        for line in _moto_imports(ast.parse(path.read_text(), filename=str(path)))
    ]
    assert offenders == []


def test_the_moto_package_does_import_moto() -> None:
    inside = [
        path.name for path in BOUNDARY.glob("*.py") if _moto_imports(ast.parse(path.read_text()))
    ]
    assert {"seams.py", "state.py", "resources.py", "app.py"} <= set(inside)
