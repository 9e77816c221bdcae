"""The quick start's server: uvicorn serving the app factory over real HTTP on loopback."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.load.run import http_get
from tests.fixtures.servers import start_server


@pytest.fixture(scope="module")
def server_url(demo_dataset_dir: Path) -> Iterator[str]:
    with start_server(demo_dataset_dir) as url:
        yield url


def test_server_is_ready_and_serves_the_docs(server_url: str) -> None:
    status, body = http_get(f"{server_url}/docs")
    assert status == 200 and b"swagger" in body.lower()
    status, body = http_get(f"{server_url}/twolvlImp/target_years")
    assert status == 200 and body.startswith(b"[2005")


def test_server_answers_errors_in_the_error_shape(server_url: str) -> None:
    status, body = http_get(f"{server_url}/twolvlImp/datasets?target_year=1900")
    assert status == 422 and b'"field":"target_year"' in body
