"""The process runtime: what it sets up for the whole process."""

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from common.core.settings import Settings
from common.serving.runtime import Runtime


@pytest.fixture
def restore_switch_interval():
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("restore_switch_interval")
def test_the_thread_switch_interval_comes_from_the_settings(tmp_path: Path) -> None:
    Runtime.create(Settings(dataset_path=tmp_path, thread_switch_interval_ms=2.5), [])
    assert sys.getswitchinterval() == pytest.approx(0.0025)


@pytest.mark.parametrize("value", ["0", "-1", "1000", "fast"])
def test_a_switch_interval_out_of_range_is_refused(monkeypatch, value: str) -> None:
    monkeypatch.setenv("THREAD_SWITCH_INTERVAL_MS", value)
    with pytest.raises(ValidationError, match="thread_switch_interval_ms"):
        Settings()
