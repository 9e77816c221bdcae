"""Admin routes need an admin key, the same way under every host; public routes stay open."""

import asyncio
import importlib
from collections.abc import Iterator

import azure.functions as func
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime

ADMIN_ROUTES = [("POST", "/datasets/reload"), ("GET", "/metrics")]


def _app(settings: Settings, keys: tuple[str, ...] = (), **change: object):
    return create_app(
        Runtime.create(
            settings.model_copy(update={"admin_api_keys": [SecretStr(k) for k in keys], **change})
        )
    )


@pytest.fixture(scope="module")
def api(demo_settings: Settings, admin_keys: tuple[str, str]) -> Iterator[TestClient]:
    with TestClient(_app(demo_settings, admin_keys)) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_without_credentials_an_admin_route_is_a_401(api: TestClient, method: str, path: str):
    response = api.request(method, path)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer not-the-key"}, {"X-API-Key": "not-the-key"}],
    ids=["bearer", "x-api-key"],
)
def test_a_wrong_key_is_a_403(api: TestClient, method: str, path: str, headers) -> None:
    response = api.request(method, path, headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_each_configured_key_opens_admin_routes_for_rotation(
    api: TestClient, admin_keys: tuple[str, str], method: str, path: str
) -> None:
    current, following = admin_keys
    assert api.request(method, path, headers={"Authorization": f"Bearer {current}"}).is_success
    assert api.request(method, path, headers={"X-API-Key": following}).is_success


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_with_no_key_configured_admin_routes_are_refused_saying_how_to_configure(
    demo_settings: Settings, method: str, path: str
) -> None:
    with TestClient(_app(demo_settings)) as client:
        for headers in ({}, {"Authorization": "Bearer anything"}):
            response = client.request(method, path, headers=headers)
            assert response.status_code == 403
            assert "ADMIN_API_KEYS" in response.json()["detail"]


def test_metrics_public_opens_only_metrics(demo_settings: Settings) -> None:
    with TestClient(_app(demo_settings, metrics_public=True)) as client:
        assert client.get("/metrics").status_code == 200
        assert client.post("/datasets/reload").status_code == 403


def test_public_routes_stay_open(api: TestClient) -> None:
    for path in ("/", "/datasets", "/params", "/healthz", "/readyz", "/twolvlImp/target_years"):
        assert api.get(path).status_code == 200, path
    preflight = api.options(
        "/twolvlImp/predict",
        headers={"Origin": "https://data.undp.org", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers["access-control-allow-origin"] == "https://data.undp.org"


def test_keys_come_from_the_environment_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_API_KEYS", " first-key , second-key,")
    monkeypatch.setenv("METRICS_PUBLIC", "true")
    settings = Settings()
    assert [key.get_secret_value() for key in settings.admin_api_keys] == [
        "first-key",
        "second-key",
    ]
    assert "first-key" not in repr(settings)  # secrets stay out of logs and tracebacks
    assert settings.metrics_public


def test_the_function_entry_checks_admin_keys_too(
    demo_settings: Settings, admin_keys: tuple[str, str]
) -> None:
    entry = importlib.import_module("main").AsgiFunction(
        Runtime.create(
            demo_settings.model_copy(update={"admin_api_keys": [SecretStr(admin_keys[1])]})
        )
    )

    def call(headers: dict[str, str]) -> func.HttpResponse:
        request = func.HttpRequest(
            method="POST",
            url="http://localhost:7071/datasets/reload",
            headers=headers,
            params={},
            route_params={"route": "datasets/reload"},
            body=b"",
        )
        return asyncio.run(entry.handle(request, None))

    assert call({}).status_code == 401
    assert call({"x-api-key": "wrong"}).status_code == 403
    answer = call({"authorization": f"Bearer {admin_keys[1]}"})
    assert answer.status_code == 200, answer.get_body()
