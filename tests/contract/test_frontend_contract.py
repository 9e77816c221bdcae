"""The platform front end's requests, replayed as it sends them, through the Function entry
(`azure.functions.HttpRequest` objects) and through a real uvicorn server with the browser's
preflight, on the demo data and on the real dataset when present.

Both transports share one result cache (Azure Storage on Azurite, as replicas do), so each
training runs once and the second transport must answer the same bytes' worth of JSON. Few trees
where the option under test is not `estimators`.
"""

import asyncio
import importlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func
import numpy as np
import pytest

from common.core.settings import Settings
from common.serving.runtime import Runtime
from tests.contract.frontend import (
    OPTIONS,
    PLATFORM_ORIGINS,
    PREFLIGHT_HEADERS,
    REQUEST_HEADERS,
    assert_frontend_answer,
    frontend_request,
)
from tests.fixtures.azurite import AzuriteServer, unique_storage_names
from tests.fixtures.datasets import DEMO_YEAR
from tests.fixtures.servers import start_server

MAIN = importlib.import_module("main")
FAST_TREES = 10
GAPMINDER_YEAR, GAPMINDER_DATASET = 2015, "wdi"
# Every option value but the 1000 trees, which run once (below).
OPTION_CASES = [
    (field, value)
    for field, values in OPTIONS.items()
    for value in values
    if (field, value) != ("estimators", 1000)
]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Served:
    """One dataset served both ways, and the front end's target on it."""

    function: Any  # main.AsgiFunction
    url: str
    year: int
    dataset: str
    target: str
    manual_predictors: list[str]
    gaps: set[str]

    def request(self, year: int | str | None = None, **choices: Any) -> dict[str, Any]:
        year = str(self.year) if year is None else year  # as the page's route gives it
        return frontend_request(self.target, year, self.dataset, self.manual_predictors, **choices)

    def through_function(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Reply:
        request = func.HttpRequest(
            method=method,
            url=f"http://localhost:7071{path}",
            headers=headers or {},
            route_params={"route": path.lstrip("/")},
            body=json.dumps(body).encode() if body is not None else b"",
        )
        response = asyncio.run(self.function.handle(request, None))
        lower = {name.lower(): value for name, value in response.headers.items()}
        return Reply(response.status_code, lower, response.get_body())

    def through_http(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Reply:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                lower = {name.lower(): value for name, value in response.headers.items()}
                return Reply(response.status, lower, response.read())
        except urllib.error.HTTPError as error:
            lower = {name.lower(): value for name, value in error.headers.items()}
            return Reply(error.code, lower, error.read())


def _gaps(store: Any, year: int, target: str) -> set[str]:
    values = store.values[store.year_index(year), :, store.indicators.get_loc(target)]
    return set(store.countries[np.isnan(values) & store.sids_mask])


def _serve(dataset_dir: Path, year: int, dataset: str | None, azurite: AzuriteServer) -> Iterator:
    storage = unique_storage_names()
    settings = Settings(
        dataset_path=dataset_dir,
        demo_data_fallback=False,
        log_level="WARNING",
        azure_storage_connection_string=azurite.connection_string,
        jobs_queue_name=storage["jobs_queue_name"],
        results_container=storage["results_container"],
    )
    environment = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "JOBS_QUEUE_NAME": storage["jobs_queue_name"],
        "RESULTS_CONTAINER": storage["results_container"],
        "LOG_LEVEL": "WARNING",
    }
    function = MAIN.AsgiFunction(Runtime.create(settings))
    with start_server(dataset_dir, environment) as url:
        served = Served(function, url, year, "", "", [], set())
        datasets = served.through_function("GET", f"/twolvlImp/datasets?target_year={year}")
        served.dataset = dataset or sorted(datasets.json())[0]
        targets = served.through_function(
            "GET", f"/twolvlImp/targets?target_year={year}&dataset={served.dataset}"
        ).json()
        served.target = sorted(targets)[0]
        predictors = served.through_function(
            "POST",
            "/twolvlImp/predictors",
            {"target_year": year, "dataset": served.dataset, "target": served.target,
             "scheme": "MANUAL"},
            {"content-type": "application/json"},
        ).json()  # fmt: skip
        served.manual_predictors = sorted(predictors)[:3]
        served.gaps = _gaps(function.app.state.runtime.datasets.store, year, served.target)
        yield served


@pytest.fixture(scope="module", params=["demo", "gapminder"])
def served(request: pytest.FixtureRequest, azurite: AzuriteServer) -> Iterator[Served]:
    if request.param == "demo":
        yield from _serve(request.getfixturevalue("demo_dataset_dir"), DEMO_YEAR, None, azurite)
    else:
        settings: Settings = request.getfixturevalue("gapminder_settings")
        yield from _serve(settings.dataset_path, GAPMINDER_YEAR, GAPMINDER_DATASET, azurite)


def _post_as_the_browser(served: Served, path: str, body: dict[str, Any], origin: str) -> Reply:
    """The preflight, then the call, as a browser on the platform's origin makes them."""
    preflight = served.through_http(
        "OPTIONS", path, headers={"Origin": origin, **PREFLIGHT_HEADERS}
    )
    _assert_preflight_allows(preflight, origin)
    reply = served.through_http("POST", path, body, {"Origin": origin, **REQUEST_HEADERS})
    assert reply.headers.get("access-control-allow-origin") == origin
    return reply


def _post_through_function(served: Served, path: str, body: dict[str, Any], origin: str) -> Reply:
    reply = served.through_function("POST", path, body, {"Origin": origin, **REQUEST_HEADERS})
    assert reply.headers.get("access-control-allow-origin") == origin
    return reply


def _assert_preflight_allows(reply: Reply, origin: str) -> None:
    assert reply.status == 200, reply.body
    assert reply.headers["access-control-allow-origin"] == origin
    assert "POST" in reply.headers["access-control-allow-methods"]
    allowed = {
        name.strip().lower() for name in reply.headers["access-control-allow-headers"].split(",")
    }
    assert {"access-control-allow-origin", "content-type"} <= allowed


@pytest.mark.parametrize("origin", PLATFORM_ORIGINS)
@pytest.mark.parametrize("path", ["/twolvlImp/predict", "/twolvlImp/estimate"])
def test_preflight_from_the_platform_is_allowed(served: Served, origin: str, path: str) -> None:
    headers = {"Origin": origin, **PREFLIGHT_HEADERS}
    _assert_preflight_allows(served.through_http("OPTIONS", path, headers=headers), origin)
    _assert_preflight_allows(served.through_function("OPTIONS", path, headers=headers), origin)


def test_preflight_from_another_origin_is_refused(served: Served) -> None:
    headers = {"Origin": "https://example.org", **PREFLIGHT_HEADERS}
    reply = served.through_http("OPTIONS", "/twolvlImp/predict", headers=headers)
    assert reply.status == 400
    assert "access-control-allow-origin" not in reply.headers


def test_estimate_is_a_number_of_seconds(served: Served) -> None:
    # The page shows `${Math.floor(estimate/60)}:${Math.floor(estimate%60)}`.
    body = served.request()
    origin = PLATFORM_ORIGINS[0]
    via_function = _post_through_function(served, "/twolvlImp/estimate", body, origin)
    via_http = _post_as_the_browser(served, "/twolvlImp/estimate", body, origin)
    assert via_function.status == via_http.status == 200
    seconds = via_function.json()
    assert isinstance(seconds, int | float) and seconds > 0
    assert via_http.json() == seconds


@pytest.mark.parametrize(("field", "value"), OPTION_CASES)
def test_every_option_the_form_offers_is_answered_in_the_shape_it_reads(
    served: Served, field: str, value: Any
) -> None:
    choices = {"estimators": FAST_TREES, field: value}
    body = served.request(**choices)
    via_function = _post_through_function(served, "/twolvlImp/predict", body, PLATFORM_ORIGINS[0])
    assert via_function.status == 200, via_function.body
    answer = via_function.json()
    assert_frontend_answer(answer, body, served.gaps)
    via_http = _post_as_the_browser(served, "/twolvlImp/predict", body, PLATFORM_ORIGINS[1])
    assert via_http.status == 200, via_http.body
    assert via_http.json() == answer


def test_target_year_as_a_number_gives_the_same_answer(served: Served) -> None:
    as_string = served.request(estimators=FAST_TREES)
    as_number = served.request(year=served.year, estimators=FAST_TREES)
    assert isinstance(as_string["target_year"], str) and isinstance(as_number["target_year"], int)
    origin = PLATFORM_ORIGINS[0]
    first = _post_through_function(served, "/twolvlImp/predict", as_number, origin)
    assert first.status == 200, first.body
    assert_frontend_answer(first.json(), as_number, served.gaps)
    second = _post_as_the_browser(served, "/twolvlImp/predict", as_string, origin)
    assert second.json() == first.json()


@pytest.mark.parametrize("served", ["demo"], indirect=True)
def test_a_thousand_trees_within_the_sync_timeout(served: Served) -> None:
    """The form's largest choice, once (on the demo data), with the form's other initial choices:
    computed by the HTTP server (one training thread), then a cache hit through the Function."""
    body = served.request(estimators=1000)
    started = time.monotonic()
    via_http = _post_as_the_browser(served, "/twolvlImp/predict", body, PLATFORM_ORIGINS[0])
    elapsed = time.monotonic() - started
    assert via_http.status == 200, via_http.body
    assert elapsed < Settings().sync_timeout_seconds
    assert_frontend_answer(via_http.json(), body, served.gaps)
    via_function = _post_through_function(served, "/twolvlImp/predict", body, PLATFORM_ORIGINS[0])
    assert via_function.json() == via_http.json()


def test_more_trees_than_the_cap_names_the_setting(served: Served) -> None:
    body = served.request(estimators=1001)
    for reply in (
        _post_as_the_browser(served, "/twolvlImp/predict", body, PLATFORM_ORIGINS[0]),
        _post_through_function(served, "/twolvlImp/estimate", body, PLATFORM_ORIGINS[0]),
    ):
        assert reply.status == 422
        error = reply.json()
        assert error["field"] == "estimators" and error["allowed"] == [1, 1000]
        assert "MAX_ESTIMATORS" in error["detail"]
