"""The layers import downwards only: core ← data ← serving ← web ← models ← api_app ← main, worker.

Read from the source (every `import` statement, also the ones inside functions), so a lazy
import cannot hide an upward dependency.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first; a module may import its own layer and the ones before it.
LAYERS = [
    ("common.core",),
    ("common.data",),
    ("common.serving",),
    ("common.web",),
    ("models",),
    ("api_app",),
    ("main", "worker"),
]
PACKAGES = ["common", "models", "api_app", "main", "worker"]


def layer_of(module: str) -> int | None:
    """The layer's position of a first-party module, None for anything else."""
    for rank, prefixes in enumerate(LAYERS):
        if any(module == prefix or module.startswith(f"{prefix}.") for prefix in prefixes):
            return rank
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


SOURCES = sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_every_source_module_has_a_layer() -> None:
    unplaced = [module_name(path) for path in SOURCES if layer_of(module_name(path)) is None]
    # `common/__init__.py` alone: the package of the three lower layers, empty.
    assert unplaced == ["common"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    own = layer_of(module_name(path))
    if own is None:
        return
    upward = [
        name
        for name in imported_modules(path)
        if (rank := layer_of(name)) is not None
        and (rank > own or (rank == own and name.split(".")[0] != module_name(path).split(".")[0]))
    ]
    assert upward == [], f"{module_name(path)} imports a layer above it (or a sibling): {upward}"


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    # The test can fail: a lazy import of a model from serving code is found.
    source = tmp_path / "lazy.py"
    source.write_text("def f():\n    from models.twolvlImp import MODEL\n")
    assert [layer_of(name) for name in imported_modules(source)] == [layer_of("models")]
    model, serving = layer_of("models.twolvlImp"), layer_of("common.serving.runtime")
    assert model is not None and serving is not None
    assert model > serving


TESTS = sorted((ROOT / "tests").rglob("*.py"))


@pytest.mark.parametrize("path", TESTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_test_imports_another_test_or_a_conftest(path: Path) -> None:
    # Shared fixtures and helpers live in tests/fixtures and tests/helpers.py.
    borrowed = [
        name
        for name in imported_modules(path)
        if name.startswith("tests.")
        and (name.rsplit(".", 1)[-1].startswith("test_") or name.endswith("conftest"))
    ]
    assert borrowed == [], f"{path.relative_to(ROOT)} imports {borrowed}"
