"""Request body size limit: a 413 in the one error shape, declared or streamed."""

from collections.abc import Iterator

from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime

LIMIT = 2_000


def _limited_client(demo_settings: Settings) -> TestClient:
    return TestClient(
        create_app(Runtime.create(demo_settings.model_copy(update={"max_request_bytes": LIMIT})))
    )


def test_declared_oversized_body_is_a_413(demo_settings: Settings) -> None:
    client = _limited_client(demo_settings)
    response = client.post(
        "/twolvlImp/predict",
        content=b"{" + b" " * LIMIT + b"}",
        headers={"content-type": "application/json", "Origin": "https://data.undp.org"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.headers["access-control-allow-origin"] == "https://data.undp.org"


def test_streamed_oversized_body_is_a_413(demo_settings: Settings) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"{"
        for _ in range(10):
            yield b" " * 500
        yield b"}"

    client = _limited_client(demo_settings)
    response = client.post(
        "/twolvlImp/predict", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_body_under_the_limit_passes(demo_settings: Settings) -> None:
    client = _limited_client(demo_settings)
    response = client.post("/twolvlImp/predict", json={"scheme": "MANUAL"})
    assert response.status_code in {422, 503}  # validated, not cut off
