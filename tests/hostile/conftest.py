"""Helpers of the hostile-input suite: admin keys made per run, raw HTTP against a real server."""

import json
import secrets
import socket
import urllib.error
import urllib.request
from typing import Any

import pytest


@pytest.fixture(scope="session")
def admin_keys() -> tuple[str, str]:
    """Two admin keys (a current and a next one, as during a rotation), made for this run."""
    return secrets.token_urlsafe(24), secrets.token_urlsafe(24)


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Status, lower-cased headers and body of one request (errors included)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, {"content-type": "application/json"}, method=method)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, _lower(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers), error.read()


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def metric(url: str, name: str, key: str) -> float:
    """One unlabelled sample of the server's /metrics (read with an admin key)."""
    status, _, body = http("GET", f"{url}/metrics", headers={"Authorization": f"Bearer {key}"})
    assert status == 200, body
    for line in body.decode().splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} metric")


def send_and_hang_up(url: str, path: str, body: Any, headers: dict[str, str] | None = None):
    """Send a POST over a raw socket and return the open socket (close it to hang up)."""
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps(body).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    connection = socket.create_connection((host, int(port)))
    connection.sendall(
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    return connection
