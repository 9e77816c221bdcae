"""The HTTP function's auth level: anonymous in the repo, switchable for deployments."""

import json
import shutil
from pathlib import Path

import pytest

from deployment.function_auth import FUNCTION_JSON, main, set_auth_level


def test_repo_function_is_anonymous() -> None:
    trigger = json.loads(FUNCTION_JSON.read_text())["bindings"][0]
    assert trigger["authLevel"] == "anonymous"


def test_level_can_be_switched_to_function_keys(tmp_path: Path) -> None:
    copy = tmp_path / "function.json"
    shutil.copy(FUNCTION_JSON, copy)
    main(["function", "--function-json", str(copy)])
    config = json.loads(copy.read_text())
    assert config["bindings"][0]["authLevel"] == "function"
    assert config["bindings"][1] == json.loads(FUNCTION_JSON.read_text())["bindings"][1]


def test_unknown_level_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "function.json"
    shutil.copy(FUNCTION_JSON, copy)
    with pytest.raises(ValueError, match="anonymous"):
        set_auth_level("open", copy)
