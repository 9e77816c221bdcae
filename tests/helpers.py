"""Assertions shared by the tests."""

import time
from typing import Any

from fastapi.testclient import TestClient
from pydantic import AliasChoices
from starlette.applications import Starlette

from common.core.settings import Settings
from common.serving.runtime import Runtime


def assert_invalid(response: Any, field: str) -> dict[str, Any]:
    """The response is a 422 `invalid_parameter` naming `field`; returns its body."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert body["field"] == field
    return body


def runtime_of(client: TestClient) -> Runtime:
    """The runtime of the app a test client calls (`api_app.create_app` puts it on app.state)."""
    app = client.app
    assert isinstance(app, Starlette), app
    return app.state.runtime


def setting_env_names() -> set[str]:
    """Every environment variable name `Settings` reads, upper-case (they are read in any case):
    a field's aliases where it has them, else its name."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias or name]
        names.update(str(choice).upper() for choice in choices)
    return names


def wait_for_job(client: Any, job_id: str, statuses: set[str], timeout: float = 120) -> dict:
    """Poll `GET /jobs/{id}` until the job reaches one of `statuses`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id} did not reach {statuses} within {timeout} s")
