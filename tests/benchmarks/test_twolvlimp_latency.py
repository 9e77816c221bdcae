"""The latency benchmark's rows at the front end's settings cannot rot: one row on the demo data.

Timings are not asserted (they belong to the full run on the real dataset); the row must time
real cache misses, fit the reference forest on the request's own predictors and report its
figures.
"""

from typing import Any

from fastapi.testclient import TestClient

from benchmarks.twolvlimp_latency import Case, frontend_row
from tests.helpers import runtime_of


def test_a_frontend_row_times_each_case_against_one_forest_fit(
    client: TestClient, case: dict[str, Any]
) -> None:
    store = runtime_of(client).datasets.require_store()
    cases = [Case(case["target_year"], case["target"], list(case["predictors"])[:3])]
    change = {"dataset": case["dataset"], "estimators": 7, "number_predictor": 3}
    row = frontend_row(client, store, cases, change)
    assert row["request"]["estimators"] == 7
    assert len(row["seconds"]) == len(row["fit_seconds"]) == len(cases)
    assert row["median"] > 0 and row["fit_median"] > 0 and row["cpu_median"] > 0
    assert row["ratio"] == row["median"] / row["fit_median"]
