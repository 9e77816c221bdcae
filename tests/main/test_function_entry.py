"""The Azure Function entry, exercised with `azure.functions.HttpRequest` objects in-process.

Azure Functions Core Tools cannot run here; the entry is called the way the Python worker calls it.
"""

import asyncio
import importlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import azure.functions as func
import pytest

from common.core.settings import get_settings
from common.serving.runtime import Runtime, process_runtime

MAIN = importlib.import_module("main")
assert MAIN.__file__ is not None  # a package of the repository, not a namespace
FUNCTION_DIR = Path(MAIN.__file__).parent
REPO = FUNCTION_DIR.parent


def _request(method: str, path: str, body: Any = None, params: dict | None = None, headers=None):
    # The worker builds requests with the full URL; the ASGI scope's query string comes from it.
    query = f"?{urlencode(params)}" if params else ""
    return func.HttpRequest(
        method=method,
        url=f"http://localhost:7071{path}{query}",
        headers={"content-type": "application/json", **(headers or {})},
        params=params or {},
        route_params={"route": path.lstrip("/")},
        body=json.dumps(body).encode() if body is not None else b"",
    )


def _call(entry, request: func.HttpRequest) -> func.HttpResponse:
    return asyncio.run(entry(request, None))


@pytest.fixture(scope="module")
def entry(demo_settings):
    """A fresh Function entry over the demo dataset on disk."""
    function = MAIN.AsgiFunction(Runtime.create(demo_settings))
    return function.handle


def test_module_level_main_loads_data_before_the_first_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The real entry point, as the worker calls it: settings from the environment (an empty
    # DATASET_PATH, so the built-in demo dataset is served).
    monkeypatch.setenv("DATASET_PATH", str(tmp_path))
    get_settings.cache_clear()
    process_runtime.cache_clear()
    monkeypatch.setattr(MAIN, "_function", MAIN.AsgiFunction())
    try:
        response = _call(MAIN.main, _request("GET", "/readyz"))
    finally:
        get_settings.cache_clear()
        process_runtime.cache_clear()
    assert response.status_code == 200
    assert json.loads(response.get_body())["status"] == "ready"


def test_routes_are_served_without_api_prefix(entry) -> None:
    response = _call(entry, _request("GET", "/twolvlImp/target_years"))
    assert response.status_code == 200
    assert json.loads(response.get_body())[0] == 2005


def test_query_parameters_reach_the_app(entry) -> None:
    response = _call(entry, _request("GET", "/twolvlImp/datasets", params={"target_year": "2012"}))
    assert response.status_code == 200
    assert "demo_wdi" in json.loads(response.get_body())


def test_predict_through_the_function(entry, manual_request) -> None:
    response = _call(entry, _request("POST", "/twolvlImp/predict", manual_request))
    assert response.status_code == 200
    body = json.loads(response.get_body())
    assert body["indicatorJson"]["data"]["2015"]
    assert response.headers["content-type"] == "application/json"


def test_bad_input_through_the_function_is_a_422(entry, manual_request) -> None:
    request = _request("POST", "/twolvlImp/predict", {**manual_request, "scheme": "nope"})
    response = _call(entry, request)
    assert response.status_code == 422
    assert json.loads(response.get_body())["field"] == "scheme"


def test_cors_preflight_through_the_function(entry) -> None:
    headers = {"Origin": "https://data.undp.org", "Access-Control-Request-Method": "POST"}
    response = _call(entry, _request("OPTIONS", "/twolvlImp/predict", headers=headers))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://data.undp.org"


def test_function_json_routes_everything_to_main() -> None:
    config = json.loads((FUNCTION_DIR / "function.json").read_text())
    trigger, output = config["bindings"]
    assert trigger["type"] == "httpTrigger" and trigger["route"] == "{*route}"
    assert sorted(trigger["methods"]) == ["get", "options", "post"]
    assert output == {"type": "http", "direction": "out", "name": "$return"}


def test_host_json_has_no_route_prefix_and_a_long_timeout() -> None:
    host = json.loads((REPO / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensions"]["http"]["routePrefix"] == ""
    hours, minutes, _ = (int(part) for part in host["functionTimeout"].split(":"))
    assert hours * 60 + minutes >= 10


def test_swagger_ui_and_its_assets_are_served_through_the_function(entry) -> None:
    page = _call(entry, _request("GET", "/docs"))
    assert page.status_code == 200
    html = page.get_body().decode()
    assert "SwaggerUIBundle" in html and "'/openapi.json'" in html
    assets = re.findall(r'(?:src|href)="(/static-offline-docs/[^"]+)"', html)
    assert {"/static-offline-docs/swagger-ui-bundle.js", "/static-offline-docs/swagger-ui.css"} <= (
        set(assets)
    )
    assert "https://" not in html  # nothing from a CDN
    for asset in assets:
        response = _call(entry, _request("GET", asset))
        assert response.status_code == 200, asset
        assert len(response.get_body()) > 1000
    script = _call(entry, _request("GET", "/static-offline-docs/swagger-ui-bundle.js"))
    assert "javascript" in script.headers["content-type"]
    assert _call(entry, _request("GET", "/openapi.json")).status_code == 200
    assert _call(entry, _request("GET", "/redoc")).status_code == 404  # not served (see the app)
