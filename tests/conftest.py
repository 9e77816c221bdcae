"""Shared fixtures: the app over the demo dataset and its client. The fixture modules of
tests/fixtures (datasets, Azurite, the fake file share, demo requests) are loaded as plugins."""

import os
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime

# Trainings in threads of the test process and of the servers tests start (they inherit the
# environment): spawning worker processes costs seconds, so only the tests about them do.
os.environ.setdefault("TRAINING_PROCESSES", "0")
# Job workers look at an empty queue every 0.2 s, not every second: a test's job is taken at
# once instead of up to a second later (a few hundred jobs in the suite).
os.environ.setdefault("WORKER_POLL_INTERVAL", "0.2")

pytest_plugins = [
    "tests.fixtures.datasets",
    "tests.fixtures.azurite",
    "tests.fixtures.file_share",
    "tests.fixtures.requests",
]
# xdist modes that group tests by node id run one of schemathesis' per-route items, which share
# an id (tests/fuzz), and still report a pass: refuse them rather than fuzz one route.
NODE_ID_SCHEDULERS = {"loadfile", "loadscope"}


def pytest_configure(config: pytest.Config) -> None:
    mode = config.getoption("dist", default="no")
    if mode in NODE_ID_SCHEDULERS:
        raise pytest.UsageError(
            f"--dist {mode} would fuzz one route of tests/fuzz; use the default (-n N)"
        )


@pytest.fixture(scope="session")
def demo_app(demo_settings: Settings) -> FastAPI:
    return create_app(Runtime.create(demo_settings))


@pytest.fixture(scope="session")
def client(demo_app: FastAPI) -> Iterator[TestClient]:
    """A client of the app over the demo dataset, started (lifespan run) once per session."""
    with TestClient(demo_app) as test_client:
        yield test_client
