"""Latency of the other models (statimpute, correlation, survey, sampleapi) on the real dataset.

Each request goes through the normal request path (a TestClient over the app on the Gapminder
Systema Globalis extract at ../shared/data/gapminder-sids); each kind is timed (the model call
only, not the option look-ups that choose its inputs) over several different inputs, and the
median and p90 are printed with the goal of the issue: well under a second. The survey model
reads no dataset: its surveys are generated (seeded), 1,000 rows.

    .venv/bin/python -m benchmarks.models_latency [--dataset PATH] [--repeats N] [--json FILE]
"""

import argparse
import json
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared/data/gapminder-sids"
DATASET_CREDIT = "Data: Gapminder Systema Globalis (www.gapminder.org), CC BY 4.0."
GOAL_SECONDS = 1.0
YEARS = (2005, 2010, 2015, 2019)
SURVEY_ROWS = 1000

# Given the client and a case number, look the inputs up and return the call to time.
Request = Callable[[TestClient, int], Callable[[], Any]]


def _ok(response: Any) -> Any:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return response.json()


def _first_accepted(
    client: TestClient, path: str, bodies: Iterable[dict[str, Any]]
) -> Callable[[], Any]:
    """The call with the first body the model accepts (some inputs rightly get a 422)."""
    for body in bodies:
        if client.post(path, json=body).status_code == 200:
            return lambda: client.post(path, json=body)
    raise RuntimeError(f"no input accepted by {path}")


def _statimpute(client: TestClient, i: int) -> Callable[[], Any]:
    targets = sorted(_ok(client.get("/statimpute/targets")))

    def bodies() -> Iterator[dict[str, Any]]:
        for shift in range(len(targets)):
            target = targets[(i * 7 + shift) % len(targets)]
            countries = _ok(client.get("/statimpute/countries", params={"target": target}))
            yield {"target": target, "country": countries[i % len(countries)], "method": "linear"}

    return _first_accepted(client, "/statimpute/impute", bodies())


def _correlation_body(client: TestClient, i: int) -> dict[str, Any]:
    year = YEARS[i % len(YEARS)]
    categories = _ok(client.get("/correlation/categories", params={"dataset": "wdi", "year": year}))
    return {"dataset": "wdi", "category": categories[i % len(categories)], "year": year}


def _correlate(client: TestClient, i: int) -> Callable[[], Any]:
    def bodies() -> Iterator[dict[str, Any]]:
        for shift in range(20):  # from case i on: some categories are too thin to correlate
            body = _correlation_body(client, i + shift)
            for country in _ok(client.get("/correlation/countries", params=body)):
                yield {**body, "country": country}

    return _first_accepted(client, "/correlation/correlate", bodies())


def _cluster(client: TestClient, i: int) -> Callable[[], Any]:
    body = {**_correlation_body(client, i), "k": 3 + i % 3}
    return lambda: client.post("/correlation/cluster", json=body)


def _survey(client: TestClient, i: int) -> Callable[[], Any]:
    rng = np.random.default_rng(i)
    groups = rng.integers(0, 3, SURVEY_ROWS)
    data = [
        {
            "roof": ["metal", "thatch", "tile"][g] if rng.random() > 0.1 else "metal",
            "income": float(rng.normal(50 * (g + 1), 10)),
            "lat": float(-17.7 + rng.normal(0, 0.1)),
            "lon": float(178.0 + rng.normal(0, 0.1)),
        }
        for g in groups
    ]
    metadata = [
        {"Question Name": "roof", "Type": "categorical", "Factor": "housing"},
        {"Question Name": "income", "Type": "continuous", "Factor": "housing"},
        {"Question Name": "lat", "Type": "GPS latitude", "Factor": None},
        {"Question Name": "lon", "Type": "GPS longitude", "Factor": None},
    ]
    body = {"data": data, "metadata": metadata, "factor": "housing", "max_k": 8}
    return lambda: client.post("/survey/clustering", json=body)


def _summary(client: TestClient, i: int) -> Callable[[], Any]:
    indicators = sorted(_ok(client.get("/sampleapi/indicators")))
    body = {"indicator": indicators[(i * 13) % len(indicators)], "year": YEARS[i % len(YEARS)]}
    return lambda: client.post("/sampleapi/summary", json=body)


REQUESTS: dict[str, Request] = {
    "POST /statimpute/impute (linear)": _statimpute,
    "POST /correlation/correlate": _correlate,
    "POST /correlation/cluster (k 3-5)": _cluster,
    f"POST /survey/clustering ({SURVEY_ROWS} rows, mixed, max_k 8)": _survey,
    "POST /sampleapi/summary": _summary,
}


def _time(client: TestClient, request: Request, repeats: int) -> list[float]:
    _ok(request(client, repeats)())  # warm-up: option lists are built on first use
    durations = []
    for i in range(repeats):
        call = request(client, i)
        started = time.perf_counter()
        _ok(call())
        durations.append(time.perf_counter() - started)
    return durations


def run(dataset: Path, repeats: int) -> dict[str, dict[str, float]]:
    """Median and p90 seconds per request kind (option look-ups included, as the front end does)."""
    settings = Settings(dataset_path=dataset, demo_data_fallback=False, log_level="WARNING")
    with TestClient(create_app(Runtime.create(settings))) as client:
        return {
            name: {
                "median_s": statistics.median(durations),
                "p90_s": float(np.quantile(durations, 0.9)),
            }
            for name, durations in ((n, _time(client, r, repeats)) for n, r in REQUESTS.items())
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    print(DATASET_CREDIT)
    if not (arguments.dataset / "indicatorData.csv").is_file():
        print(f"no dataset at {arguments.dataset}: nothing measured")
        return
    figures = run(arguments.dataset, arguments.repeats)
    print(f"{'request':62} {'median':>9} {'p90':>9}  goal < {GOAL_SECONDS:g} s")
    for name, figure in figures.items():
        verdict = "PASS" if figure["p90_s"] < GOAL_SECONDS else "FAIL"
        print(
            f"{name:62} {figure['median_s'] * 1000:7.1f}ms {figure['p90_s'] * 1000:7.1f}ms  "
            f"{verdict}"
        )
    if arguments.json:
        arguments.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
