"""The README and docs/ stay true to the code: the quick start's commands exist and its example
answers, the settings table is the Settings object's, and every document is linked and every
relative link resolves."""

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

from fastapi.testclient import TestClient

from common.core.settings import Settings

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
DOCS = sorted((REPO / "docs").glob("*.md"))
MAX_README_LINES = 250
# [text](target): the target up to a space or the closing parenthesis.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _settings_table() -> ModuleType:
    spec = importlib.util.spec_from_file_location("settings_table", REPO / "docs/settings_table.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _quick_start() -> str:
    return README.split("## Quick start", 1)[1].split("\n## ", 1)[0]


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", document.read_text(), flags=re.S)
    return {_anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def test_the_readme_is_short() -> None:
    assert len(README.splitlines()) <= MAX_README_LINES


def test_quick_start_targets_exist_in_the_makefile() -> None:
    targets = set(re.findall(r"^([a-z-]+):", (REPO / "Makefile").read_text(), re.MULTILINE))
    commands = re.findall(r"^make ([a-z-]+)", _quick_start(), re.MULTILINE)
    assert {"run", "test"} <= set(commands)
    assert set(commands) <= targets


def test_ci_runs_the_readme_test_command() -> None:
    assert re.search(r"^make test\b", _quick_start(), re.MULTILINE)
    assert re.search(r"^make test$", (REPO / ".ci" / "run").read_text(), re.MULTILINE)


def test_the_readme_predict_example_answers(client: TestClient) -> None:
    (body,) = re.findall(r"localhost:7071/twolvlImp/predict .*?-d '(.*?)'", README, re.S)
    response = client.post("/twolvlImp/predict", json=json.loads(body))
    assert response.status_code == 200, response.text
    prediction = response.json()["prediction"]
    assert prediction["Country Code"] and len(prediction["lower"]) == len(prediction["upper"])


def test_the_settings_table_is_generated_from_the_settings() -> None:
    generator = _settings_table()
    document = generator.OPERATIONS.read_text()
    assert generator.with_table(document) == document, "run: python docs/settings_table.py"
    for name in Settings.model_fields:
        assert f"| `{name.upper()}`" in document, f"{name.upper()} missing from the settings table"


def test_the_readme_links_every_document() -> None:
    linked = {target.split("#")[0] for target in LINK.findall(README)}
    for document in DOCS:
        assert f"docs/{document.name}" in linked, f"README does not link docs/{document.name}"


def test_every_relative_link_resolves() -> None:
    for document in [REPO / "README.md", *DOCS]:
        for target in LINK.findall(document.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (document.parent / path).resolve() if path else document
            assert linked.is_file(), f"{document.name}: {target} does not exist"
            if anchor and linked.suffix == ".md":
                assert anchor in _anchors(linked), f"{document.name}: no heading for {target}"
