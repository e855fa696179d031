"""The house rules of ARCHITECTURE.md, checked: spec is pure, arrows go one way, code is ruff clean."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import asfl.properties
import asfl.reference
import asfl.spec

IMPURE = {"random", "time", "datetime", "socket", "asyncio", "os", "subprocess", "pathlib", "io", "secrets"}


def _imports(package) -> list[tuple[Path, str]]:
    found = []
    for path in Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(path, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path, node.module))
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "open":
                found.append((path, "open()"))
    return found


def test_spec_is_pure_and_imports_nothing_of_ours():
    bad = [
        (p.name, m)
        for p, m in _imports(asfl.spec)
        if m.split(".")[0] in IMPURE | {"asfl", "numpy"} or m == "open()"
    ]
    assert bad == []


def test_reference_never_imports_properties():
    bad = [
        (p.name, m)
        for p, m in _imports(asfl.reference)
        if m.startswith("asfl.properties") or m.startswith("asfl.commands")
    ]
    assert bad == []


def test_layers_never_import_the_cli():
    for pkg in (asfl.spec, asfl.reference, asfl.properties):
        assert [m for _, m in _imports(pkg) if m.startswith("asfl.commands") or m == "asfl.cli"] == []


def test_ruff_clean():
    """ruff is in the test extra; the tests run from the source tree (pyproject's testpaths)."""
    root = Path(__file__).resolve().parents[1]
    ruff = shutil.which("ruff")
    assert ruff is not None, "install the test extra: pip install '.[test]'"
    proc = subprocess.run([ruff, "check", str(root)], capture_output=True, text=True, cwd=root)
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_every_importable_folder_is_a_declared_package():
    """setuptools warns about folders Python can import but `packages` does not list (#17)."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"])
    for name, folder in config["package-dir"].items():
        for sub in (root / folder).rglob("*.py"):
            rel = sub.parent.relative_to(root / folder)
            if "__pycache__" not in rel.parts:
                assert ".".join((name, *rel.parts)) in declared, sub
