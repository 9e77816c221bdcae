"""The quick start's server: uvicorn serving the app factory over real HTTP on loopback."""

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextmanager
def start_server(dataset_dir: Path, environment: dict[str, str] | None = None) -> Iterator[str]:
    """uvicorn serving the app factory on a free loopback port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "api_app.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "DATASET_PATH": str(dataset_dir), "DEMO_DATA_FALLBACK": "false"}
    env |= environment or {}
    # The log goes to a file: a pipe nobody reads would fill up and stall a busy server.
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(url, server, log)
            yield url
        finally:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def server_url(demo_dataset_dir: Path) -> Iterator[str]:
    with start_server(demo_dataset_dir) as url:
        yield url


def _wait_until_ready(url: str, server: subprocess.Popen, log: IO[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited: {log.read().decode()[-2000:]}")
        try:
            if _get(f"{url}/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"server not ready within {STARTUP_SECONDS} s")


def test_server_is_ready_and_serves_the_docs(server_url: str) -> None:
    status, body = _get(f"{server_url}/docs")
    assert status == 200 and b"swagger" in body.lower()
    status, body = _get(f"{server_url}/twolvlImp/target_years")
    assert status == 200 and body.startswith(b"[2005")


def test_server_answers_errors_in_the_error_shape(server_url: str) -> None:
    status, body = _get(f"{server_url}/twolvlImp/datasets?target_year=1900")
    assert status == 422 and b'"field":"target_year"' in body
