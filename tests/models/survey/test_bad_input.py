"""Every class of bad clustering request is a 422 naming the field (and what it allows)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient


def _rejected(client: TestClient, request: dict[str, Any], field: str) -> dict[str, Any]:
    response = client.post("/survey/clustering", json=request)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert body["field"] == field
    return body


@pytest.mark.parametrize("data", [[], {}, {"income": []}])
def test_empty_data_is_rejected(client: TestClient, survey, data: Any) -> None:
    body = _rejected(client, survey.request("economy", data=data), "data")
    assert "no rows" in body["detail"]


@pytest.mark.parametrize(
    "data",
    ["a table", [["row", "as", "list"]], {"income": [1.0, 2.0], "roof": ["metal"]}, {"a": 1}],
    ids=["string", "rows-not-objects", "unequal-columns", "scalar-column"],
)
def test_malformed_data_is_rejected(client: TestClient, survey, data: Any) -> None:
    _rejected(client, survey.request("economy", data=data), "data")


def test_unknown_factor_lists_the_factors(client: TestClient, survey) -> None:
    body = _rejected(client, survey.request("health"), "factor")
    assert body["allowed"] == ["living", "economy", "assets"]


def test_factor_with_only_gps_questions_is_rejected(client: TestClient, survey) -> None:
    body = _rejected(client, survey.request("location"), "factor")
    assert "location" not in body["allowed"]


def test_questions_absent_from_data_are_listed(client: TestClient, survey) -> None:
    metadata = [
        *survey.metadata,
        {"Question Name": "savings", "Type": "continuous", "Factor": "economy"},
        {"Question Name": "debt", "Type": "continuous", "Factor": "economy"},
    ]
    body = _rejected(client, survey.request("economy", metadata=metadata), "metadata")
    assert "'savings'" in body["detail"] and "'debt'" in body["detail"]
    assert "income" in body["allowed"]


def test_absent_gps_question_is_listed(client: TestClient, survey) -> None:
    records = [{k: v for k, v in record.items() if k != "lat"} for record in survey.records]
    body = _rejected(client, survey.request("economy", data=records), "metadata")
    assert "'lat'" in body["detail"]


def test_unknown_question_type_lists_the_types(client: TestClient, survey) -> None:
    metadata = [{"Question Name": "income", "Type": "text", "Factor": "economy"}]
    body = _rejected(client, survey.request("economy", metadata=metadata), "metadata.0.Type")
    assert body["allowed"] == ["categorical", "continuous", "GPS latitude", "GPS longitude"]


def test_question_listed_twice_is_rejected(client: TestClient, survey) -> None:
    metadata = [*survey.metadata, {"Question Name": "roof", "Type": "continuous", "Factor": "x"}]
    body = _rejected(client, survey.request("living", metadata=metadata), "metadata")
    assert "'roof'" in body["detail"]


@pytest.mark.parametrize("max_k", [1, 0, -3])
def test_max_k_below_two_is_rejected(client: TestClient, survey, max_k: int) -> None:
    body = _rejected(client, survey.request("living", max_k=max_k), "max_k")
    assert body["allowed"] == [2, min(survey.kept_rows, 20)]


def test_max_k_above_the_rows_with_gps_is_rejected(client: TestClient, survey_factory) -> None:
    case = survey_factory(n_rows=12, no_gps_every=4)  # rows 3, 7, 11 have no GPS: 9 are left
    assert case.kept_rows == 9
    body = _rejected(client, case.request("living", max_k=10), "max_k")
    assert body["allowed"] == [2, 9]
    assert client.post("/survey/clustering", json=case.request("living", max_k=9)).is_success


def test_max_k_above_the_cap_is_rejected(client: TestClient, survey_factory) -> None:
    case = survey_factory(n_rows=40, no_gps_every=1000)
    assert _rejected(client, case.request("living", max_k=21), "max_k")["allowed"] == [2, 20]


def test_non_integer_max_k_is_rejected(client: TestClient, survey) -> None:
    _rejected(client, survey.request("living", max_k="many"), "max_k")


def test_too_few_rows_with_gps_are_rejected(client: TestClient, survey) -> None:
    records = [{**record, "lat": None} for record in survey.records]
    records[0]["lat"] = -17.5
    body = _rejected(client, survey.request("living", data=records), "data")
    assert "GPS" in body["detail"]


def test_non_numeric_continuous_answer_names_the_question(client: TestClient, survey) -> None:
    records = [dict(record) for record in survey.records]
    records[0]["household_size"] = "five"
    body = _rejected(client, survey.request("economy", data=records), "data")
    assert "'household_size'" in body["detail"] and "'five'" in body["detail"]


def test_non_numeric_answer_in_a_dropped_row_is_ignored(client: TestClient, survey) -> None:
    records = [dict(record) for record in survey.records]
    records[survey.no_gps[0]]["household_size"] = "five"
    response = client.post("/survey/clustering", json=survey.request("economy", data=records))
    assert response.status_code == 200


def test_nested_answers_are_rejected(client: TestClient, survey) -> None:
    records = [dict(record) for record in survey.records]
    records[1]["roof"] = ["metal", "tile"]
    body = _rejected(client, survey.request("living", data=records), "data")
    assert "'roof'" in body["detail"]


@pytest.mark.parametrize("missing", ["data", "metadata", "factor", "max_k"])
def test_missing_field_is_named(client: TestClient, survey, missing: str) -> None:
    request = survey.request("living")
    del request[missing]
    _rejected(client, request, missing)


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ({"Question Name": "income", "Type": "continuous"}, "metadata"),
        ({"Question Name": ["income"], "Type": ["text"], "Factor": ["economy"]}, "metadata.0.Type"),
        (
            {"Question Name": {"0": "income", "1": "roof"}, "Type": {"0": "continuous"}},
            "metadata.1.Type",
        ),
    ],
)
def test_malformed_metadata_columns_are_rejected(
    client: TestClient, survey, metadata: dict[str, Any], field: str
) -> None:
    _rejected(client, survey.request("economy", metadata=metadata), field)
