"""Shared fixtures: the demo dataset on disk, settings, app clients and a valid demo request."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api_app import create_app
from common.demo_data import write_demo_dataset
from common.settings import Settings

DEMO_YEAR = 2015
GAPMINDER_PATH = Path(__file__).resolve().parents[2] / "shared" / "data" / "gapminder-sids"


@pytest.fixture(scope="session")
def demo_dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo dataset as the three CSV files, written once per test session."""
    folder = tmp_path_factory.mktemp("demo-dataset")
    write_demo_dataset(folder)
    return folder


@pytest.fixture(scope="session")
def demo_settings(demo_dataset_dir: Path) -> Settings:
    return Settings(dataset_path=demo_dataset_dir, demo_data_fallback=False)


@pytest.fixture(scope="session")
def demo_app(demo_settings: Settings) -> FastAPI:
    return create_app(demo_settings)


@pytest.fixture(scope="session")
def client(demo_app: FastAPI) -> Iterator[TestClient]:
    """A client of the app over the demo dataset, started (lifespan run) once per session."""
    with TestClient(demo_app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def gapminder_settings() -> Settings:
    """Settings over the real Gapminder dataset; tests using it skip when it is absent."""
    if not (GAPMINDER_PATH / "indicatorData.csv").is_file():
        pytest.skip(f"real dataset not present at {GAPMINDER_PATH}")
    return Settings(dataset_path=GAPMINDER_PATH, demo_data_fallback=False)


@pytest.fixture(scope="session")
def case(client: TestClient) -> dict[str, Any]:
    """The first target of the first dataset in DEMO_YEAR, with its MANUAL predictors."""
    dataset = sorted(client.get("/twolvlImp/datasets", params={"target_year": DEMO_YEAR}).json())[0]
    targets = client.get(
        "/twolvlImp/targets", params={"target_year": DEMO_YEAR, "dataset": dataset}
    )
    target = sorted(targets.json())[0]
    predictors = client.post(
        "/twolvlImp/predictors",
        json={"target_year": DEMO_YEAR, "dataset": dataset, "target": target, "scheme": "MANUAL"},
    ).json()
    return {
        "target_year": DEMO_YEAR,
        "dataset": dataset,
        "target": target,
        "predictors": predictors,
    }


@pytest.fixture(scope="session")
def manual_request(case: dict[str, Any]) -> dict[str, Any]:
    """A valid MANUAL predict request with three predictors."""
    return {
        "target_year": case["target_year"],
        "dataset": case["dataset"],
        "target": case["target"],
        "scheme": "MANUAL",
        "manual_predictors": sorted(case["predictors"])[:3],
        "interpolator": "KNNImputer",
        "model": "rfr",
        "estimators": 10,
        "interval": "quantile",
    }
