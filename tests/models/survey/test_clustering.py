"""POST /survey/clustering on generated surveys: labels per input row, k, determinism, orients."""

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

FACTORS = ["living", "economy", "assets"]  # categorical, continuous, mixed


def _cluster(client: TestClient, request: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/survey/clustering", json=request)
    assert response.status_code == 200, response.text
    return response.json()


def _recovers(groups: np.ndarray, labels: list[int]) -> bool:
    """Whether the labels are the groups up to renaming."""
    pairs = set(zip(groups.tolist(), labels))
    return len(pairs) == len(set(groups.tolist())) == len(set(labels))


@pytest.mark.parametrize("factor", FACTORS)
def test_one_label_per_input_row_and_null_without_gps(
    client: TestClient, survey, factor: str
) -> None:
    body = _cluster(client, survey.request(factor))
    labels = body["cluster_label"]
    assert len(labels) == len(survey.records)
    assert [row for row, label in enumerate(labels) if label is None] == survey.no_gps
    assert {label for label in labels if label is not None} == set(range(body["k"]))


@pytest.mark.parametrize("factor", FACTORS)
def test_three_separated_groups_are_found(client: TestClient, survey, factor: str) -> None:
    body = _cluster(client, survey.request(factor, max_k=6))
    assert body["k"] == 3
    kept = [row for row in range(len(survey.records)) if row not in survey.no_gps]
    assert _recovers(survey.groups[kept], [body["cluster_label"][row] for row in kept])


@pytest.mark.parametrize("factor", FACTORS)
def test_costs_are_the_elbow_curve_up_to_max_k(client: TestClient, survey, factor: str) -> None:
    body = _cluster(client, survey.request(factor, max_k=5))
    costs = body["costs"]
    assert len(costs) == 5
    assert all(cost >= 0 for cost in costs)
    assert costs[body["k"] - 1] < costs[0]


def test_same_request_gives_the_same_answer(client: TestClient, survey_factory) -> None:
    case = survey_factory(n_rows=80, n_groups=4, seed=3, missing_share=0.1)
    first = _cluster(client, case.request("assets", max_k=7))
    assert _cluster(client, case.request("assets", max_k=7)) == first


def test_missing_answers_are_imputed(client: TestClient, survey_factory) -> None:
    case = survey_factory(missing_share=0.15, seed=5)
    for factor in FACTORS:
        body = _cluster(client, case.request(factor))
        assert [row for row, label in enumerate(body["cluster_label"]) if label is None] == (
            case.no_gps
        )


@pytest.mark.parametrize("orient", ["dict", "list"])
def test_columns_orient_gives_the_same_labels(client: TestClient, survey, orient: str) -> None:
    columns = sorted({name for record in survey.records for name in record})
    data: dict[str, dict[str, Any]] | dict[str, list[Any]]
    if orient == "dict":
        data = {
            name: {
                str(row): record[name]
                for row, record in enumerate(survey.records)
                if name in record
            }
            for name in columns
        }
    else:
        data = {name: [record.get(name) for record in survey.records] for name in columns}
    expected = _cluster(client, survey.request("economy"))
    assert _cluster(client, survey.request("economy", data=data)) == expected


@pytest.mark.parametrize("orient", ["dict", "list"])
def test_metadata_in_columns_orient_gives_the_same_answer(
    client: TestClient, survey, orient: str
) -> None:
    # As the original service took it: {"Question Name": [...]} or {"Question Name": {"0": ...}}
    names = ("Question Name", "Type", "Factor")
    metadata: dict[str, dict[str, Any]] | dict[str, list[Any]]
    if orient == "dict":
        metadata = {
            name: {str(row): question[name] for row, question in enumerate(survey.metadata)}
            for name in names
        }
    else:
        metadata = {name: [question[name] for question in survey.metadata] for name in names}
    for factor in FACTORS:
        expected = _cluster(client, survey.request(factor))
        assert _cluster(client, survey.request(factor, metadata=metadata)) == expected


def test_identical_rows_make_one_cluster(client: TestClient, survey) -> None:
    records = [{**survey.records[0], "lat": -17.0, "lon": 178.0} for _ in range(10)]
    for factor in FACTORS:
        body = _cluster(client, survey.request(factor, max_k=4, data=records))
        assert body["k"] == 1
        assert body["cluster_label"] == [0] * 10


def test_without_gps_questions_no_row_is_dropped(client: TestClient, survey) -> None:
    metadata = [q for q in survey.metadata if not q["Type"].startswith("GPS")]
    records = [{k: v for k, v in r.items() if k not in ("lat", "lon")} for r in survey.records]
    body = _cluster(client, survey.request("living", data=records, metadata=metadata))
    assert None not in body["cluster_label"]
    assert len(body["cluster_label"]) == len(records)


def test_numeric_strings_count_as_numbers(client: TestClient, survey) -> None:
    records = [
        {**record, "income": str(record["income"])} if "income" in record else record
        for record in survey.records
    ]
    expected = _cluster(client, survey.request("economy"))
    assert _cluster(client, survey.request("economy", data=records)) == expected
