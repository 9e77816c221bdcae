"""The web layer turns the facts of an error into the status and headers of its response."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api_app.errors import register_error_handlers
from common.core.errors import (
    InvalidParameter,
    Overloaded,
    ServiceError,
    StorageUnavailable,
    TooManyRequests,
    Unauthorized,
)


def _answer(error: ServiceError):
    app = FastAPI()
    register_error_handlers(app)

    @app.get("/fail")
    def fail() -> None:
        raise error

    return TestClient(app).get("/fail")


@pytest.mark.parametrize(
    "error",
    [
        Overloaded("busy", retry_after_seconds=5),
        TooManyRequests("slow down", retry_after_seconds=7),
        StorageUnavailable("down", retry_after_seconds=10),
    ],
)
def test_retry_after_comes_from_the_error(error: ServiceError) -> None:
    response = _answer(error)
    assert response.status_code == error.status_code
    assert response.headers["Retry-After"] == str(error.retry_after_seconds)
    assert response.json()["code"] == error.code


def test_no_retry_after_without_the_fact() -> None:
    response = _answer(InvalidParameter("bad", field="x"))
    assert response.status_code == 422 and "Retry-After" not in response.headers


def test_unauthorized_asks_for_a_bearer_key() -> None:
    response = _answer(Unauthorized("key needed"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_errors_say_whether_a_retry_may_pass() -> None:
    assert Overloaded("x").retryable and StorageUnavailable("x").retryable
    assert not InvalidParameter("x").retryable and not Unauthorized("x").retryable
