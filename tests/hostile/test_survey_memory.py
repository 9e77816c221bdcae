"""Survey bodies that would build huge tables are refused, by rows, columns, keys and cells, before
any table is built; peak memory stays bounded for the worst body under the byte limit."""

import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime
from tests.helpers import assert_invalid, runtime_of

METADATA = [{"Question Name": "q", "Type": "categorical", "Factor": "f"}]
# Parsing JSON into Python objects costs about 25 bytes per body byte (small objects); nothing
# after the parse may cost more than a few times that.
PEAK_PER_BODY_BYTE = 40
# tracemalloc sees every thread of the process (the app's workers too): a floor for small bodies.
PEAK_FLOOR = 16 * 2**20


@pytest.fixture(scope="module")
def api(demo_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(Runtime.create(demo_settings))) as client:
        yield client


def _request(data: Any) -> bytes:
    return json.dumps({"data": data, "metadata": METADATA, "factor": "f", "max_k": 3}).encode()


def _peak_bytes(api: TestClient, body: bytes) -> tuple[int, Any]:
    """Peak traced memory while the app answers the body (the body itself made beforehand)."""
    tracemalloc.start()
    try:
        response = api.post(
            "/survey/clustering", content=body, headers={"content-type": "application/json"}
        )
        return tracemalloc.get_traced_memory()[1], response
    finally:
        tracemalloc.stop()


def test_records_with_distinct_keys_are_refused_without_a_table(api: TestClient) -> None:
    # The body: every record has its own key, so rows x keys cells (4,000 x 4,000 here,
    # 16 million cells, over 128 MB) would be allocated by building the table.
    body = _request([{f"k{n}": n, "q": "a"} for n in range(4_000)])
    peak, response = _peak_bytes(api, body)
    detail = assert_invalid(response, "data")["detail"]
    assert "SURVEY_MAX_DISTINCT_KEYS" in detail
    assert peak < max(PEAK_PER_BODY_BYTE * len(body), PEAK_FLOOR), f"peak {peak / 1e6:.0f} MB"


@pytest.mark.parametrize(
    ("data", "limit"),
    [
        ([{"q": "a"}] * 20_001, "SURVEY_MAX_ROWS"),
        ({"q": ["a"] * 20_001}, "SURVEY_MAX_ROWS"),
        ({"q": {str(n): "a" for n in range(20_001)}}, "SURVEY_MAX_ROWS"),
        ([{f"k{n}": 1 for n in range(501)}], "SURVEY_MAX_COLUMNS"),
        ({f"k{n}": ["a"] for n in range(501)}, "SURVEY_MAX_COLUMNS"),
        ([{"q": "a", f"k{n}": 1} for n in range(1_001)], "SURVEY_MAX_DISTINCT_KEYS"),
        # Sparse: few bytes, but 3,000 rows x 900 columns once built.
        ([{f"k{n % 900}": 1} for n in range(3_000)], "SURVEY_MAX_CELLS"),
        (
            {f"k{c}": {str(c * 15 + r): 1 for r in range(15)} for c in range(400)},
            "SURVEY_MAX_CELLS",
        ),
    ],
    ids=[
        "rows",
        "column-rows",
        "keyed-rows",
        "columns",
        "column-count",
        "keys",
        "cells",
        "column-cells",
    ],
)
def test_each_size_limit_is_a_422_naming_it(api: TestClient, data: Any, limit: str) -> None:
    response = api.post(
        "/survey/clustering", content=_request(data), headers={"content-type": "application/json"}
    )
    body = assert_invalid(response, "data")
    assert limit in body["detail"]
    assert body["allowed"][0] == 1 and body["allowed"][1] > 0


def test_limits_are_settings(demo_settings: Settings) -> None:
    settings = demo_settings.model_copy(update={"survey_max_rows": 10})
    with TestClient(create_app(Runtime.create(settings))) as client:
        response = client.post(
            "/survey/clustering",
            content=_request([{"q": "a"}] * 11),
            headers={"content-type": "application/json"},
        )
    assert "SURVEY_MAX_ROWS" in assert_invalid(response, "data")["detail"]
    assert response.json()["allowed"] == [1, 10]


@pytest.mark.parametrize("shape", ["distinct_keys", "tiny_records", "wide_records"])
def test_peak_memory_is_bounded_for_the_worst_body_under_the_byte_limit(
    api: TestClient, shape: str
) -> None:
    limit = runtime_of(api).settings.max_request_bytes
    if shape == "distinct_keys":  # the body, as large as the limit allows
        records = [{f"k{n}": 0} for n in range(limit // 12)]
    elif shape == "tiny_records":
        records = [{"q": 0}] * (limit // 8)
    else:  # wide rows just within the column limit, as many as the byte limit allows
        row = {f"q{n}": 0 for n in range(500)}
        records = [row] * (limit // len(json.dumps(row)))
    body = _request(records)
    while len(body) > limit:  # just under the byte limit
        records = records[: int(len(records) * 0.98)]
        body = _request(records)
    del records
    peak, response = _peak_bytes(api, body)
    assert response.status_code == 422, response.text
    assert peak < PEAK_PER_BODY_BYTE * limit, f"peak {peak / 1e6:.0f} MB for {len(body)} bytes"
