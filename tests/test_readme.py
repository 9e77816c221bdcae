"""The README stays true to the code: every setting documented, the quick start commands exist."""

import re
from pathlib import Path

from common.core.settings import Settings

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`{name.upper()}`" in README, f"{name.upper()} missing from the README settings"


def test_quick_start_targets_exist_in_the_makefile() -> None:
    targets = set(re.findall(r"^([a-z-]+):", (REPO / "Makefile").read_text(), re.MULTILINE))
    for command in re.findall(r"^make ([a-z-]+)", README, re.MULTILINE):
        assert command in targets


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in README
    assert "make test" in (REPO / ".ci" / "run").read_text()
