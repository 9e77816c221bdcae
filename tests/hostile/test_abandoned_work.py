"""Abandoned work does not hold capacity, and one client cannot take every slot: through a real
uvicorn server, with clients that hang up."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.web.dependencies import client_address
from tests.fixtures.servers import http, metric, send_and_hang_up, start_server

# A slow request trains for 15 s or more here; an abandoned one must free its slot well before.
RELEASE_SECONDS = 8


@pytest.fixture(scope="module")
def server(demo_dataset_dir: Path, admin_keys: tuple[str, str]) -> Iterator[str]:
    environment = {
        "MAX_CONCURRENCY": "1",
        "MAX_QUEUE_LENGTH": "3",
        "MAX_TRAININGS_PER_CLIENT": "2",
        "TRUSTED_PROXIES": "1",
        "ADMIN_API_KEYS": ",".join(admin_keys),
    }
    with start_server(demo_dataset_dir, environment) as url:
        yield url


def _busy(url: str, key: str) -> float:
    return metric(url, "sids_trainings_in_progress", key) + metric(
        url, "sids_trainings_queued", key
    )


def _wait_until(condition, seconds: float, message: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, message
        time.sleep(0.1)
    return time.monotonic() - started


def test_trainings_whose_clients_all_hung_up_give_their_slots_back(
    server: str, slow_request: dict[str, Any], admin_keys: tuple[str, str]
) -> None:
    key = admin_keys[0]
    abandoned_before = metric(server, "sids_trainings_abandoned_total", key)
    # Three clients (three addresses behind the trusted proxy): one running, two waiting.
    connections = [
        send_and_hang_up(
            server,
            "/twolvlImp/predict",
            {**slow_request, "estimators": 200 + n},
            {"X-Forwarded-For": f"198.51.100.{n}"},
        )
        for n in range(3)
    ]
    _wait_until(lambda: _busy(server, key) >= 3, 30, "the trainings were never admitted")
    for connection in connections:
        connection.close()
    _wait_until(
        lambda: _busy(server, key) == 0, RELEASE_SECONDS, "abandoned trainings kept their slots"
    )
    assert metric(server, "sids_trainings_abandoned_total", key) == abandoned_before + 3


def test_a_training_another_client_still_waits_for_runs_on(
    server: str, manual_request: dict[str, Any], admin_keys: tuple[str, str]
) -> None:
    key = admin_keys[0]
    body = {**manual_request, "estimators": 400, "interval": "bootstrap"}
    leaving = send_and_hang_up(server, "/twolvlImp/predict", body)
    _wait_until(lambda: _busy(server, key) >= 1, 30, "the training was never admitted")
    answer: list[int] = []
    staying = threading.Thread(
        target=lambda: answer.append(http("POST", f"{server}/twolvlImp/predict", body)[0])
    )
    staying.start()
    time.sleep(0.5)  # the second client joins the same training (single flight)
    leaving.close()
    staying.join(timeout=120)
    assert answer == [200]


def test_one_client_cannot_take_every_slot(
    server: str, medium_request: dict[str, Any], admin_keys: tuple[str, str]
) -> None:
    key, client = admin_keys[0], {"X-Forwarded-For": "203.0.113.7"}
    trees = medium_request["estimators"]  # each request another count: no cached answer
    held = [
        send_and_hang_up(
            server, "/twolvlImp/predict", {**medium_request, "estimators": trees + n}, client
        )
        for n in range(2)
    ]
    try:
        _wait_until(lambda: _busy(server, key) >= 2, 30, "the trainings were never admitted")
        third = {**medium_request, "estimators": trees + 10}
        status, headers, body = http("POST", f"{server}/twolvlImp/predict", third, client)
        assert status == 429, body
        assert headers["retry-after"] and b'"code":"too_many_requests"' in body
        assert b"MAX_TRAININGS_PER_CLIENT" in body
        # Another client still has room.
        other = {"X-Forwarded-For": "203.0.113.8"}
        survey = {
            "data": [{"q": "a" if n % 2 else "b", "lat": 1.0, "lon": 2.0} for n in range(20)],
            "metadata": [{"Question Name": "q", "Type": "categorical", "Factor": "f"}],
            "factor": "f",
            "max_k": 3,
        }
        assert http("POST", f"{server}/survey/clustering", survey, other)[0] == 200
    finally:
        for connection in held:
            connection.close()
    _wait_until(lambda: _busy(server, key) == 0, RELEASE_SECONDS, "slots not given back")


def test_forwarded_for_counts_only_behind_a_trusted_proxy() -> None:
    scope = {
        "client": ("10.0.0.5", 41000),
        "headers": [(b"x-forwarded-for", b"6.6.6.6, 192.0.2.10")],
    }
    assert client_address(scope, trusted_proxies=0) == "10.0.0.5"  # the header is ignored
    assert client_address(scope, trusted_proxies=1) == "192.0.2.10"  # what our proxy saw
    assert client_address(scope, trusted_proxies=2) == "6.6.6.6"
    assert client_address({"client": None, "headers": []}, trusted_proxies=0) is None


def test_forwarded_ports_do_not_make_one_client_many() -> None:
    """The Functions front end writes `address:port`; the port changes with every connection."""
    for hop, expected in (
        ("203.0.113.5:53412", "203.0.113.5"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("203.0.113.5", "203.0.113.5"),
    ):
        scope = {"client": ("10.0.0.5", 41000), "headers": [(b"x-forwarded-for", hop.encode())]}
        assert client_address(scope, trusted_proxies=1) == expected
