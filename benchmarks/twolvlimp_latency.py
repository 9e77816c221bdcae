"""Latency, cold start and memory of the two-level imputation model on the real dataset.

Measured on the Gapminder Systema Globalis extract at ../shared/data/gapminder-sids:

1. Cold start: in fresh subprocesses, `import api_app` + `create_app(...)` + the dataset load
   (median of a few runs) and the peak RSS of such a process.
2. Latency of POST /twolvlImp/predict through the normal request path (a TestClient over the
   app), median and p90 over fixed (year, target) cases of the `wdi` dataset, for a simple
   request (MANUAL, 3 predictors) and an automatic one (AFS, 10 predictors), both with the
   default method (`history`). Every timed request is a result-cache miss (checked with the
   X-Cache header). The first request of each year, which fills the year's request-independent
   caches (the imputed predictor matrix), is a warm-up timed on its own.
3. The year-by-year reference: the automatic request with `method` = `cross_section` (the
   original method: per-request imputation, RFE over a 100-tree forest dropping 10 features a
   round, the full grid search) over the same cases, and the speed-up of the default over it.
4. A cached answer: the same simple request again (X-Cache: hit).
5. The peak RSS of this process after those requests.
6. The targets of the issue, each with PASS or FAIL.
7. The front end's settings (AFS, 10 predictors, KNNImputer, rfr, quantile, `history`) with 100,
   500 and 1,000 trees, the IterativeImputer (the first request of a year; and the same first
   requests once a `warm` job for each year has run in another runtime sharing the blob store,
   `warm_row`) and model `all`, each over the same FRONTEND_CASES (year, target) cases (one per
   year): median and max, and the ratio of the median to the median of one
   RandomForestRegressor fit with the requested number of trees on each request's training
   matrix (each the median of REFERENCE_FITS fits), timed in the same run (`frontend_rows`).

Run from the repository root (`make benchmark` does exactly this):

    .venv/bin/python -m benchmarks.twolvlimp_latency [--dataset PATH] [--cases N]
        [--reference-cases N] [--json FILE] [--frontend] [--frontend-rows KEY ...]

`--frontend` measures only the rows of 7; `--frontend-rows` picks some of them (default, 500,
1000, iterative, iterative-warm, all).

If the dataset folder is absent the script says so and exits with status 0.
"""

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sklearn.ensemble import RandomForestRegressor

from api_app import create_app
from benchmarks.real_data import DEFAULT_DATASET, checked, dataset_available, write_figures
from common.core.settings import Settings
from common.data.datasets import IndicatorStore
from common.serving.runtime import Runtime
from common.serving.storage import MemoryBlobStore, MemoryQueue, Storage
from models.twolvlImp.cross_section import SEED
from models.twolvlImp.schemas import Interpolator, WarmRequest
from models.twolvlImp.tasks import WARM
from models.twolvlImp.year_caches import imputed_year

REPO_ROOT = Path(__file__).resolve().parents[1]

YEARS = (2005, 2010, 2015, 2019)
DATASET = "wdi"
DEFAULT_CASES = 8  # the first two wdi targets of each year
MANUAL_PREDICTOR_COUNT = 3
AFS_PREDICTOR_COUNT = 10
COMMON_FIELDS: dict[str, Any] = {
    "interpolator": "KNNImputer",
    "model": "rfr",
    "estimators": 10,
    "interval": "quantile",
    "dataset": DATASET,
}
COLD_START_RUNS = 3
REFERENCE = {"method": "cross_section"}  # the year-by-year method, as the original specified it
CACHED_RUNS = 5

SIMPLE_TARGET_SECONDS = 0.5
AUTOMATIC_TARGET_SECONDS = 5.0
SPEED_UP_TARGET = 10.0
CACHED_TARGET_SECONDS = 0.020
COLD_START_TARGET_SECONDS = 3.0
PEAK_RSS_TARGET_MB = 600.0

# The front end's defaults (and its largest tree counts), over one case per year so that each
# IterativeImputer request is the first of its year.
FRONTEND_YEARS = (2000, 2005, 2010, 2015, 2019)
FRONTEND_FIELDS: dict[str, Any] = {**COMMON_FIELDS, "estimators": 100, "method": "history"}
FRONTEND_ROWS: dict[str, tuple[str, dict[str, Any]]] = {  # key: (label, change of the default)
    "default": ("AFS 10, rfr, 100 trees (the default)", {}),
    "500": ("same, 500 trees", {"estimators": 500}),
    "1000": ("same, 1000 trees", {"estimators": 1000}),
    "iterative": ("same, IterativeImputer (first of a year)", {"interpolator": "IterativeImputer"}),
    # The same first requests of a year in a fresh app, once a warm job for the year has run in
    # another runtime sharing the blob store (`warm_row`).
    "iterative-warm": (
        "same, IterativeImputer, after warm-up",
        {"interpolator": "IterativeImputer"},
    ),
    "all": ("same, model all", {"model": "all"}),
}
WARM_ROW = "iterative-warm"
REFERENCE_FITS = 3  # the ratios' "one fit" is the median time of this many fits

# Runs in a fresh interpreter; prints its timing and peak RSS as one JSON line.
COLD_START_CODE = """
import json, resource, sys, time
from pathlib import Path
start = time.perf_counter()
import api_app
from common.core.settings import Settings
from common.serving.runtime import Runtime
settings = Settings(dataset_path=Path(sys.argv[1]), demo_data_fallback=False)
app = api_app.create_app(Runtime.create(settings))
store = app.state.runtime.datasets.load()
seconds = time.perf_counter() - start
if store is None:
    sys.exit(f"dataset load failed: {app.state.runtime.datasets.error}")
maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "maxrss": maxrss}))
"""


@dataclass(frozen=True)
class Case:
    """One (year, target) problem and the predictors its simple request uses."""

    year: int
    target: str
    manual_predictors: list[str]


@dataclass(frozen=True)
class Stats:
    """Median and p90 of a series of timings, in seconds."""

    median: float
    p90: float
    runs: int

    @classmethod
    def of(cls, seconds: list[float]) -> "Stats":
        return cls(statistics.median(seconds), float(np.percentile(seconds, 90)), len(seconds))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="dataset folder")
    parser.add_argument(
        "--cases", type=int, default=DEFAULT_CASES, help="number of (year, target) cases"
    )
    parser.add_argument(
        "--reference-cases",
        type=int,
        help="cases timed with the year-by-year reference (default: all; each takes ~20 s)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--frontend", action="store_true", help="only the rows at the front end's settings"
    )
    parser.add_argument(
        "--frontend-rows",
        nargs="+",
        choices=list(FRONTEND_ROWS),
        default=list(FRONTEND_ROWS),
        help="which of those rows (default: all)",
    )
    args = parser.parse_args()
    if args.cases < 1 or (args.reference_cases is not None and args.reference_cases < 1):
        parser.error("--cases and --reference-cases must be at least 1")
    return args


def rss_to_mb(maxrss: int) -> float:
    """`ru_maxrss` is in KiB on Linux and in bytes on macOS."""
    return maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def peak_rss_mb() -> float:
    return rss_to_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure_cold_start(dataset: Path) -> dict[str, float]:
    """Median in-process start time, median subprocess wall time and the largest peak RSS."""
    inner, wall, rss = [], [], []
    for _ in range(COLD_START_RUNS):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", COLD_START_CODE, str(dataset)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        wall.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"cold start subprocess failed:\n{done.stderr}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        inner.append(figures["seconds"])
        rss.append(rss_to_mb(figures["maxrss"]))
    return {
        "seconds": statistics.median(inner),
        "process_wall_seconds": statistics.median(wall),
        "peak_rss_mb": max(rss),
    }


def discover_cases(client: TestClient, count: int) -> list[Case]:
    """The first targets (sorted codes) of each year, ordered by rank then year, `count` of them."""
    per_year = -(-count // len(YEARS))
    ranked: list[tuple[int, int, str]] = []
    for year in YEARS:
        query: dict[str, str | int] = {"target_year": year, "dataset": DATASET}
        targets = sorted(checked(client.get("/twolvlImp/targets", params=query), "targets"))
        ranked += [(rank, year, target) for rank, target in enumerate(targets[:per_year])]
    return [manual_case(client, year, target) for _, year, target in sorted(ranked)[:count]]


def manual_case(client: TestClient, year: int, target: str) -> Case:
    body = {"target_year": year, "dataset": DATASET, "target": target, "scheme": "MANUAL"}
    predictors = checked(client.post("/twolvlImp/predictors", json=body), "predictors")
    return Case(year, target, list(predictors)[:MANUAL_PREDICTOR_COUNT])


def predict_body(case: Case, automatic: bool, **change: Any) -> dict[str, Any]:
    body = {**COMMON_FIELDS, "target": case.target, "target_year": case.year, **change}
    if automatic:
        return {**body, "scheme": "AFS", "number_predictor": AFS_PREDICTOR_COUNT}
    return {**body, "scheme": "MANUAL", "manual_predictors": case.manual_predictors}


def time_request(client: TestClient, body: dict[str, Any], expect_cache: str) -> float:
    """Seconds of one predict request, which must be a result-cache `expect_cache` (hit/miss)."""
    start = time.perf_counter()
    response = client.post("/twolvlImp/predict", json=body)
    seconds = time.perf_counter() - start
    checked(response, f"predict {body['target_year']} {body['target']} ({body['scheme']})")
    if response.headers.get("x-cache") != expect_cache:
        raise SystemExit(f"expected a cache {expect_cache}, got {response.headers.get('x-cache')}")
    return seconds


def time_all(client: TestClient, cases: list[Case], automatic: bool, **change: Any) -> list[float]:
    return [time_request(client, predict_body(c, automatic, **change), "miss") for c in cases]


def warm_up(client: TestClient, cases: list[Case]) -> dict[int, float]:
    """The first request of each year, with 1 tree more than the timed ones (so none of them is a
    cache hit): it fills the year's request-independent caches."""
    seconds = {}
    for case in cases:
        if case.year not in seconds:
            body = predict_body(case, False, estimators=COMMON_FIELDS["estimators"] + 1)
            seconds[case.year] = time_request(client, body, "miss")
    return seconds


def frontend_cases(client: TestClient) -> list[Case]:
    """One case per year of FRONTEND_YEARS: the n-th wdi target (sorted codes) of the n-th year."""
    cases = []
    for rank, year in enumerate(FRONTEND_YEARS):
        query: dict[str, str | int] = {"target_year": year, "dataset": DATASET}
        targets = sorted(checked(client.get("/twolvlImp/targets", params=query), "targets"))
        cases.append(manual_case(client, year, targets[rank % len(targets)]))
    return cases


def frontend_body(case: Case, **change: Any) -> dict[str, Any]:
    return predict_body(case, True, **{**FRONTEND_FIELDS, **change})


def reference_fit_seconds(
    store: IndicatorStore, case: Case, predictors: list[str], trees: int
) -> tuple[float, float]:
    """Wall and CPU seconds of one RandomForestRegressor fit with `trees` trees on the request's
    training matrix (the countries with the target in the year x the request's predictors): the
    median of REFERENCE_FITS fits, so one slow moment of a shared machine does not set a ratio."""
    matrix = imputed_year(store, case.year, Interpolator.KNNImputer)
    target = store.year_matrix(case.year)[case.target].reindex(matrix.index)
    rows = target.notna().to_numpy()
    features, values = matrix.loc[rows, predictors].to_numpy(), target[rows].to_numpy()
    wall, cpu = [], []
    for _ in range(REFERENCE_FITS):
        start, cpu_start = time.perf_counter(), time.process_time()
        RandomForestRegressor(n_estimators=trees, random_state=SEED).fit(features, values)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return statistics.median(wall), statistics.median(cpu)


def frontend_row(
    client: TestClient, store: IndicatorStore, cases: list[Case], change: dict[str, Any]
) -> dict[str, Any]:
    """Each case's request time and reference fit time, their medians, max and ratio. CPU
    seconds (of this process) too: on a shared machine they vary less than wall seconds."""
    seconds, fits, cpu, fits_cpu = [], [], [], []
    for case in cases:
        body = frontend_body(case, **change)
        start, cpu_start = time.perf_counter(), time.process_time()
        response = client.post("/twolvlImp/predict", json=body)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        answer = checked(response, f"predict {case.year} {case.target} {change}")
        if response.headers.get("x-cache") != "miss":
            raise SystemExit(f"expected a cache miss for {body}")
        predictors = [name for name in answer["model_feature_names"] if name != case.target]
        fit, fit_cpu = reference_fit_seconds(store, case, predictors, body["estimators"])
        fits.append(fit)
        fits_cpu.append(fit_cpu)
    return {
        "request": {**FRONTEND_FIELDS, **change},
        "median": statistics.median(seconds),
        "max": max(seconds),
        "fit_median": statistics.median(fits),
        "ratio": statistics.median(seconds) / statistics.median(fits),
        "cpu_median": statistics.median(cpu),
        "fit_cpu_median": statistics.median(fits_cpu),
        "cpu_ratio": statistics.median(cpu) / statistics.median(fits_cpu),
        "seconds": seconds,
        "fit_seconds": fits,
        "cpu_seconds": cpu,
        "fit_cpu_seconds": fits_cpu,
    }


def frontend_rows(client: TestClient, keys: list[str]) -> dict[str, Any]:
    """The rows `keys` of FRONTEND_ROWS but WARM_ROW, each year's KNN caches filled first
    (untimed)."""
    app = cast(FastAPI, client.app)  # TestClient types it as any ASGI app
    store = app.state.runtime.datasets.require_store()
    cases = frontend_cases(client)
    warm_up(client, cases)
    chosen = [FRONTEND_ROWS[key] for key in FRONTEND_ROWS if key in keys and key != WARM_ROW]
    rows = {label: frontend_row(client, store, cases, change) for label, change in chosen}
    return {"cases": [asdict(case) for case in cases], "rows": rows}


def run_warm_jobs(settings: Settings, blobs: MemoryBlobStore, cases: list[Case]) -> None:
    """A `warm` job of WARM_ROW's imputer for each case's year, submitted and run through the
    jobs machinery of a runtime of its own over `blobs` (another replica and its worker)."""
    runtime = Runtime.create(settings, storage=Storage(blobs, MemoryQueue(), kind="memory"))
    store = runtime.datasets.load()
    if store is None:
        raise SystemExit(f"dataset load failed: {runtime.datasets.error}")
    imputer = FRONTEND_ROWS[WARM_ROW][1]["interpolator"]
    for year in sorted({case.year for case in cases}):
        request = WarmRequest(target_year=year, interpolator=imputer)
        runtime.jobs.submit(WARM, request, store.version)
    worker = runtime.queue_worker()
    while worker.run_once():
        pass


def warm_row(settings: Settings, cases: list[Case]) -> dict[str, Any]:
    """WARM_ROW: its requests, each the first of its year in a fresh app whose blob store a warm
    job for the year has filled first (untimed, in another runtime), after the same untimed KNN
    warm-up as the other rows. `shared_matrices` counts where the app's matrices came from."""
    blobs = MemoryBlobStore()
    run_warm_jobs(settings, blobs, cases)
    runtime = Runtime.create(settings, storage=Storage(blobs, MemoryQueue(), kind="memory"))
    with TestClient(create_app(runtime)) as client:
        warm_up(client, cases)
        store = runtime.datasets.require_store()
        row = frontend_row(client, store, cases, FRONTEND_ROWS[WARM_ROW][1])
    text = runtime.metrics.render().decode()
    found = re.findall(r'^sids_shared_matrices_total\{source="(\w+)"\} (\S+)$', text, re.M)
    return row | {"shared_matrices": {source: float(value) for source, value in found}}


def report_frontend(figures: dict[str, Any]) -> None:
    print(f"front end's settings, {len(figures['cases'])} cases (one a year):")
    for case in figures["cases"]:
        print(f"             {case['year']} {case['target']}")
    print(
        f"{'request (wall; then CPU)':<44}{'median':>10}{'max':>10}{'1 fit':>10}{'ratio':>8}"
        f"{'CPU':>10}{'1 fit':>10}{'ratio':>8}"
    )
    for label, row in figures["rows"].items():
        print(
            f"{label:<44}{row['median']:8.2f} s{row['max']:8.2f} s"
            f"{row['fit_median']:8.3f} s{row['ratio']:7.1f}x"
            f"{row['cpu_median']:8.2f} s{row['fit_cpu_median']:8.3f} s{row['cpu_ratio']:7.1f}x"
        )


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def run(dataset: Path, case_count: int, reference_count: int | None) -> dict[str, Any]:
    """Every measurement, as one JSON-serialisable dict."""
    cold = measure_cold_start(dataset)
    settings = Settings(dataset_path=dataset, demo_data_fallback=False, log_level="WARNING")
    with TestClient(create_app(Runtime.create(settings))) as client:
        version = checked(client.get("/"), "GET /")["dataset_version"]
        cases = discover_cases(client, case_count)
        first_requests = warm_up(client, cases)
        simple = time_all(client, cases, automatic=False)
        automatic = time_all(client, cases, automatic=True)
        reference_cases = cases[:reference_count] if reference_count else cases
        reference = time_all(client, reference_cases, automatic=True, **REFERENCE)
        cached = [
            time_request(client, predict_body(cases[0], False), "hit") for _ in range(CACHED_RUNS)
        ]
        rss = peak_rss_mb()
    same_cases = automatic[: len(reference_cases)]
    return {
        "dataset": str(dataset),
        "dataset_version": version,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "search_jobs": settings.search_jobs,
        "cases": [asdict(case) for case in cases],
        "cold_start": cold,
        "first_request_of_year_seconds": {str(y): s for y, s in first_requests.items()},
        "simple": asdict(Stats.of(simple)),
        "automatic": asdict(Stats.of(automatic)),
        "simple_seconds": simple,
        "automatic_seconds": automatic,
        "cached": asdict(Stats.of(cached)),
        "peak_rss_mb": rss,
        "reference": {
            "request": REFERENCE,
            **asdict(Stats.of(reference)),
            "seconds": reference,
            "automatic_median_same_cases": statistics.median(same_cases),
            "speed_up": statistics.median(reference) / statistics.median(same_cases),
        },
    }


def targets(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, PASS/FAIL) for each target of the issue."""
    speed_up = figures["reference"]["speed_up"]
    cached_ms = figures["cached"]["median"] * 1000
    checks = [
        ("simple median", figures["simple"]["median"], SIMPLE_TARGET_SECONDS, "s"),
        ("automatic median", figures["automatic"]["median"], AUTOMATIC_TARGET_SECONDS, "s"),
        ("cached answer", cached_ms, CACHED_TARGET_SECONDS * 1000, "ms"),
        ("cold start", figures["cold_start"]["seconds"], COLD_START_TARGET_SECONDS, "s"),
        ("peak RSS", figures["peak_rss_mb"], PEAK_RSS_TARGET_MB, "MB"),
    ]
    decimals = {"s": 2, "ms": 1, "MB": 0}
    rows = [
        (f"{name} < {limit:g} {unit}", f"{value:.{decimals[unit]}f} {unit}", verdict(value < limit))
        for name, value, limit, unit in checks
    ]
    rows.insert(
        2,
        (
            f"AFS speed-up >= {SPEED_UP_TARGET:g}x",
            f"{speed_up:.1f} x",
            verdict(speed_up >= SPEED_UP_TARGET),
        ),
    )
    return rows


def report(figures: dict[str, Any]) -> None:
    cold, reference = figures["cold_start"], figures["reference"]
    simple, automatic, cached = figures["simple"], figures["automatic"], figures["cached"]
    print(f"dataset      {figures['dataset']}  version {figures['dataset_version']}")
    print(
        f"machine      {figures['cores']} cores, Python {figures['python']}, "
        f"search_jobs={figures['search_jobs']}"
    )
    print(f"cases        {len(figures['cases'])} ({DATASET}, years {', '.join(map(str, YEARS))}):")
    for case in figures["cases"]:
        print(f"             {case['year']} {case['target']}")
    print()
    print(f"{'measure':<52}{'median':>10}{'p90':>10}{'runs':>6}")
    first = list(figures["first_request_of_year_seconds"].values())
    rows = [
        ("cold start: import + create_app + load", cold["seconds"], None, COLD_START_RUNS),
        ("  (subprocess wall time, with interpreter)", cold["process_wall_seconds"], None, None),
        ("first request of a year (fills its caches)", statistics.median(first), None, len(first)),
        ("simple predict (MANUAL, 3 predictors)", simple["median"], simple["p90"], simple["runs"]),
        ("automatic predict (AFS, 10 predictors)", automatic["median"], automatic["p90"],
         automatic["runs"]),
        ("year-by-year reference AFS (method cross_section)", reference["median"],
         reference["p90"], reference["runs"]),
        ("  automatic predict, same cases", reference["automatic_median_same_cases"], None,
         reference["runs"]),
        ("cached answer (the same simple request again)", cached["median"], cached["p90"],
         cached["runs"]),
    ]  # fmt: skip
    for label, median, p90, runs in rows:
        p90_text = f"{p90:8.3f} s" if p90 is not None else ""
        runs_text = str(runs) if runs is not None else ""
        print(f"{label:<52}{median:8.3f} s{p90_text:>10}{runs_text:>6}")
    print(f"{'speed-up of AFS (reference / automatic, medians)':<52}{reference['speed_up']:8.1f} x")
    print(f"{'peak RSS, cold start process':<52}{cold['peak_rss_mb']:7.0f} MB")
    print(f"{'peak RSS, benchmark process':<52}{figures['peak_rss_mb']:7.0f} MB")
    print()
    for target, measured, result in targets(figures):
        print(f"{target:<30}{measured:>10}  {result}")


def run_frontend(dataset: Path, keys: list[str]) -> dict[str, Any]:
    """A fresh app, so that each IterativeImputer request is the first of its year (WARM_ROW:
    another fresh app, after the warm jobs). Trainings run in this process (TRAINING_PROCESSES
    0), where its CPU clock sees them."""
    settings = Settings(
        dataset_path=dataset, demo_data_fallback=False, log_level="WARNING", training_processes=0
    )
    with TestClient(create_app(Runtime.create(settings))) as client:
        figures = frontend_rows(client, keys)
    if WARM_ROW in keys:
        cases = [Case(**case) for case in figures["cases"]]
        rows = figures["rows"] | {FRONTEND_ROWS[WARM_ROW][0]: warm_row(settings, cases)}
        order = [label for label, _ in FRONTEND_ROWS.values()]
        figures["rows"] = dict(sorted(rows.items(), key=lambda item: order.index(item[0])))
    return figures


def main() -> None:
    args = parse_args()
    if not dataset_available(args.dataset):
        return
    start = time.perf_counter()
    figures: dict[str, Any]
    if args.frontend:
        figures = {"frontend": run_frontend(args.dataset, args.frontend_rows)}
    else:
        figures = run(args.dataset, args.cases, args.reference_cases)
        figures["targets"] = {target: result for target, _, result in targets(figures)}
        figures["frontend"] = run_frontend(args.dataset, args.frontend_rows)
        report(figures)
        print()
    report_frontend(figures["frontend"])
    figures["run_seconds"] = time.perf_counter() - start
    print(f"\nbenchmark run took {figures['run_seconds']:.0f} s")
    write_figures(args.json, figures)


if __name__ == "__main__":
    main()
