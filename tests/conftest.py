"""Shared fixtures: the demo dataset on disk, settings, app clients and a valid demo request."""

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.data.demo_data import write_demo_dataset
from common.serving.runtime import Runtime

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
    return create_app(Runtime.create(demo_settings))


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


# ---- Azurite, the Azure Storage emulator (installed from npm by `make test`) -------------------

AZURITE = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "azurite"
# Azurite's documented, public development account; it only ever reaches the local emulator.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def azurite_connection_string(blob_port: int, queue_port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{blob_port}/{AZURITE_ACCOUNT};"
        f"QueueEndpoint=http://127.0.0.1:{queue_port}/{AZURITE_ACCOUNT};"
    )


class AzuriteServer:
    """An Azurite process (blob and queue) on free loopback ports; can be stopped and restarted."""

    def __init__(self, location: Path | None = None) -> None:
        if not AZURITE.exists():
            raise RuntimeError(f"{AZURITE} is missing: run `npm ci` (make test does)")
        self.location = location  # on disk (survives a restart) when given, else in memory
        self.blob_port, self.queue_port = free_port(), free_port()
        self.connection_string = azurite_connection_string(self.blob_port, self.queue_port)
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start on this server's ports (the same ones again after a stop: clients keep their
        connection string). A port briefly held by another process is retried until the
        deadline."""
        deadline = time.monotonic() + 30
        while True:
            self._process = self._launch()
            error = self._wait_until_listening(deadline)
            if error is None:
                return
            if "EADDRINUSE" not in error or time.monotonic() > deadline:
                raise RuntimeError(f"azurite exited: {error}")
            time.sleep(0.5)

    def _launch(self) -> subprocess.Popen:
        persistence = (
            ["--location", str(self.location)] if self.location else ["--inMemoryPersistence"]
        )
        command = [
            str(AZURITE), "--silent", *persistence, "--skipApiVersionCheck", "--loose",
            "--blobHost", "127.0.0.1", "--blobPort", str(self.blob_port),
            "--queueHost", "127.0.0.1", "--queuePort", str(self.queue_port),
            "--tableHost", "127.0.0.1", "--tablePort", str(free_port()),
        ]  # fmt: skip
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _wait_until_listening(self, deadline: float) -> str | None:
        """None once both ports answer; Azurite's error output if it exited first."""
        assert self._process is not None
        while time.monotonic() < deadline:
            status = self._process.poll()
            if status is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                self._process = None
                return error or f"exit status {status}"
            if all(_port_open(port) for port in (self.blob_port, self.queue_port)):
                return None
            time.sleep(0.1)
        raise TimeoutError("azurite did not start within 30 s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def azurite() -> Iterator[AzuriteServer]:
    """A running Azurite for the whole session (tests isolate themselves by queue and container)."""
    server = AzuriteServer()
    server.start()
    yield server
    server.stop()


def unique_storage_names() -> dict[str, str]:
    """A queue and container of their own for one test."""
    suffix = uuid.uuid4().hex[:10]
    return {"jobs_queue_name": f"jobs-{suffix}", "results_container": f"results-{suffix}"}


@pytest.fixture(scope="session")
def slow_request(manual_request: dict[str, Any]) -> dict[str, Any]:
    """A predict request that trains for several seconds on the demo data (about 15 s here)."""
    return {
        **manual_request,
        "scheme": "AFS",
        "number_predictor": 8,
        "manual_predictors": None,
        "interpolator": "IterativeImputer",
        "model": "all",
        "estimators": 300,
        "interval": "bootstrap",
    }


def wait_for_job(client: Any, job_id: str, statuses: set[str], timeout: float = 120) -> dict:
    """Poll `GET /jobs/{id}` until the job reaches one of `statuses`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id} did not reach {statuses} within {timeout} s")
