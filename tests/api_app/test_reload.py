"""Reloading a changed dataset without a restart, and refusing a broken one."""

import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime


@pytest.fixture
def data_dir(demo_dataset_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(demo_dataset_dir, folder)
    return folder


@pytest.fixture
def api(demo_settings: Settings, data_dir: Path) -> Iterator[TestClient]:
    key = secrets.token_urlsafe(16)  # reload is an admin route (see tests/hostile)
    settings = demo_settings.model_copy(
        update={"dataset_path": data_dir, "admin_api_keys": [SecretStr(key)]}
    )
    with TestClient(
        create_app(Runtime.create(settings)), headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


def _revise(data_dir: Path) -> None:
    meta = data_dir / "datasetMeta.csv"
    meta.write_text(meta.read_text().replace("(demo)", "(demo revised)"))


def test_unchanged_files_are_not_reloaded(api: TestClient) -> None:
    before = api.get("/").json()["dataset_version"]
    response = api.post("/datasets/reload")
    assert response.json() == {"status": "unchanged", "dataset_version": before}


def test_changed_files_are_reloaded_with_new_cache_keys(
    api: TestClient, data_dir: Path, manual_request: dict[str, Any]
) -> None:
    before = api.get("/").json()["dataset_version"]
    assert api.post("/twolvlImp/predict", json=manual_request).status_code == 200
    _revise(data_dir)
    response = api.post("/datasets/reload").json()
    assert response["status"] == "loaded" and response["dataset_version"] != before
    again = api.post("/twolvlImp/predict", json=manual_request)
    assert again.headers["x-cache"] == "miss"
    assert again.json()["dataset_version"] == response["dataset_version"]
    assert "(demo revised)" in str(api.get("/datasets").json()["datasets"])


@pytest.mark.parametrize("damage", ["truncate", "drop_column", "remove"])
def test_broken_files_keep_the_previous_data_in_service(
    api: TestClient, data_dir: Path, manual_request: dict[str, Any], damage: str
) -> None:
    before = api.get("/").json()["dataset_version"]
    data_file = data_dir / "indicatorData.csv"
    if damage == "truncate":
        data_file.write_bytes(data_file.read_bytes()[: data_file.stat().st_size // 3])
    elif damage == "drop_column":
        data_file.write_text(data_file.read_text().replace("Country Code", "Country", 1))
    else:
        data_file.unlink()
    response = api.post("/datasets/reload")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "dataset_invalid" and "previous data kept" in body["detail"]
    assert api.get("/").json()["dataset_version"] == before
    assert api.get("/readyz").status_code == 200
    assert api.post("/twolvlImp/predict", json=manual_request).status_code == 200
    assert api.get("/datasets").json()["last_error"]


def test_periodic_check_picks_up_a_change(demo_settings: Settings, data_dir: Path) -> None:
    settings = demo_settings.model_copy(
        update={"dataset_path": data_dir, "dataset_check_interval": 0.2}
    )
    with TestClient(create_app(Runtime.create(settings))) as api:
        before = api.get("/").json()["dataset_version"]
        _revise(data_dir)
        deadline = time.monotonic() + 20
        while api.get("/").json()["dataset_version"] == before:
            assert time.monotonic() < deadline, "the change was not picked up"
            time.sleep(0.1)
