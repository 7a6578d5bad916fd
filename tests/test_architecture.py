"""The layering rule: engine/ imports neither Qt, connectors/ nor desktop/;
connectors/ imports neither Qt nor desktop/.

Checked twice: import-linter's contracts from pyproject.toml, and an AST scan of every module that
also catches `importlib.import_module("...")` / `__import__("...")` with a literal name.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RULES = {
    "engine": ("PySide6", "connectors", "desktop"),
    "connectors": ("PySide6", "desktop"),
}
_DYNAMIC_IMPORTERS = {"import_module", "__import__"}


@dataclass(frozen=True)
class Violation:
    """One forbidden import: where it is and what it imports."""

    path: Path
    line: int
    imported: str

    def __str__(self) -> str:
        """`path:line imports module`, for assertion messages."""
        return f"{self.path}:{self.line} imports {self.imported}"


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Return (line, absolute module name) for every import in `tree`, including literal dynamic ones.

    Relative imports are skipped: they cannot leave their own top-level package.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _called_name(node.func) in _DYNAMIC_IMPORTERS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return found


def forbidden_imports(package_dir: Path, forbidden: tuple[str, ...]) -> list[Violation]:
    """Scan every .py file under `package_dir` for imports of `forbidden` packages (or their submodules)."""
    violations = []
    for path in sorted(package_dir.rglob("*.py")):
        tree = ast.parse(path.read_bytes(), filename=str(path))
        for line, module in imported_modules(tree):
            top = module.split(".")[0]
            if top in forbidden:
                violations.append(Violation(path, line, module))
    return violations


def _called_name(func: ast.expr) -> str:
    """The bare name of a call target: `import_module` for importlib.import_module(...)."""
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_respects_layering(package: str) -> None:
    """No module of the package imports a forbidden package, statically or by literal name."""
    violations = forbidden_imports(REPO / package, RULES[package])
    assert not violations, "\n".join(map(str, violations))


def test_import_linter_contracts_hold() -> None:
    """import-linter's contracts (pyproject.toml) are kept."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    command = str(lint_imports) if lint_imports.exists() else shutil.which("lint-imports")
    assert command, "lint-imports not installed (pip install -e '.[dev]')"
    result = subprocess.run(
        [command, "--no-logo", "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_checker_catches_violations(tmp_path: Path) -> None:
    """The AST checker finds every kind of forbidden import in a planted module, and nothing else."""
    package = tmp_path / "engine"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "bad.py").write_text(
        "import os\n"
        "import PySide6.QtWidgets\n"
        "from connectors.http import make_client\n"
        "from . import sibling\n"
        "def later():\n"
        "    import importlib\n"
        "    importlib.import_module('desktop.app')\n"
        "    __import__('connectors')\n"
        "    return importlib.import_module('json')\n"
    )
    violations = forbidden_imports(package, RULES["engine"])
    assert [(v.line, v.imported) for v in violations] == [
        (2, "PySide6.QtWidgets"),
        (3, "connectors.http"),
        (7, "desktop.app"),
        (8, "connectors"),
    ]


def test_checker_passes_clean_module(tmp_path: Path) -> None:
    """Names that merely start like a forbidden package are not violations."""
    package = tmp_path / "connectors"
    package.mkdir()
    (package / "ok.py").write_text("import desktopish\nfrom PySide6x import y\nimport engine.errors\n")
    assert forbidden_imports(package, RULES["connectors"]) == []
