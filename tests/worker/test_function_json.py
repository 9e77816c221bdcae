"""worker/function.json takes its queue from JOBS_QUEUE_NAME, the setting the app enqueues to, and
every place that runs the Functions host sets it (a %NAME% the host cannot resolve disables the
function)."""

import json
from pathlib import Path

import yaml
from pydantic import AliasChoices

from common.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTING = "JOBS_QUEUE_NAME"


def _trigger() -> dict:
    config = json.loads((ROOT / "worker" / "function.json").read_text())
    (trigger,) = [b for b in config["bindings"] if b["type"] == "queueTrigger"]
    return trigger


def test_the_queue_name_is_the_app_setting_not_a_literal() -> None:
    assert _trigger()["queueName"] == f"%{SETTING}%"
    assert SETTING.lower() in Settings.model_fields
    assert Settings.model_fields[SETTING.lower()].validation_alias is None


def test_the_connection_is_the_one_the_app_reads() -> None:
    connection = _trigger()["connection"]
    alias = Settings.model_fields["azure_storage_connection_string"].validation_alias
    assert isinstance(alias, AliasChoices)
    assert connection in alias.choices


def test_local_functions_host_settings_name_the_queue() -> None:
    values = json.loads((ROOT / "local.settings.example.json").read_text())["Values"]
    assert values[SETTING] == Settings.model_fields[SETTING.lower()].default


def test_the_compose_functions_host_names_the_queue() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in ("api", "worker"):
        assert compose["services"][service]["environment"][SETTING] == "jobs", service
