"""Error bodies always encode (a lone surrogate in a name is escaped, not a 500)."""

import json

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_invalid

SURROGATE = "\ud800"


def _survey(column: str, factor: str, asked: str, named: str) -> str:
    # Built as JSON text: a lone surrogate cannot be encoded as UTF-8, only escaped in JSON.
    return json.dumps(
        {
            "data": [{column: "a", "lat": 1.0, "lon": 2.0}, {column: "b", "lat": 1.0, "lon": 2.0}],
            "metadata": [
                {"Question Name": named, "Type": "categorical", "Factor": factor},
                {"Question Name": "lat", "Type": "GPS latitude"},
                {"Question Name": "lon", "Type": "GPS longitude"},
            ],
            "factor": asked,
            "max_k": 2,
        }
    )


@pytest.mark.parametrize(
    ("column", "factor", "asked", "named"),
    [
        ("q", f"f{SURROGATE}", "other", "q"),  # the factor is echoed in `allowed`
        (f"q{SURROGATE}", "f", "f", "z"),  # the data's columns are echoed in `allowed`
        ("q", "f", f"x{SURROGATE}", "q"),  # the factor asked for is echoed in `detail`
    ],
    ids=["factor", "column", "asked"],
)
def test_a_lone_surrogate_is_escaped_in_the_error_body(
    client: TestClient, column: str, factor: str, asked: str, named: str
) -> None:
    body = _survey(column, factor, asked, named)
    response = client.post(
        "/survey/clustering", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert_invalid(response, "metadata" if named != column else "factor")
    assert "\\ud800" in response.text  # escaped in the JSON text
