"""Load test: the front end's request mix against a fresh local server, checked against the goals.

For each scenario (`sync`: POST /twolvlImp/predict; `jobs`: POST /jobs then polling
GET /jobs/{id}; see `locustfile.py`) this script:

1. starts uvicorn serving the app factory on a free loopback port over the dataset (the real
   Gapminder extract at ../shared/data/gapminder-sids when present, else the built-in demo
   dataset), with the service's default settings, and waits for /readyz;
2. runs locust headless in a subprocess for `--duration` seconds with `--users` users (each
   iteration: GET /healthz, one predict, a think time), which records every request;
3. reads /metrics, stops the server, and reports requests per second, p50/p95/p99 per request
   name and for the whole mix of HTTP requests, the error rate, the 503s (load shedding),
   cache-hit latency, and the jobs completed / failed / unfinished, with PASS or FAIL against
   the goals: zero errors, mix p99 < 2 s, cache-hit p99 < 50 ms, every job completes.

Each scenario gets a fresh server, so both start from an empty result cache. Percentiles are
nearest-rank over every sample; requests per second are over the measured window (first user
start to the last user stop). Load generator and server share this machine's cores, so the
figures include the load generator's CPU use (reported).

Run from the repository root:

    .venv/bin/python -m benchmarks.load.run --scenario sync|jobs|both --duration 180 --users 10 \\
        [--dataset PATH] [--json FILE] [--out DIR]

Only loopback addresses are used; users and duration are bounded (MAX_USERS, MAX_DURATION).
"""

import argparse
import json
import math
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from benchmarks.load import (
    DEFAULT_COMMON_COUNT,
    DEFAULT_ESTIMATORS,
    DEFAULT_SEED,
    DEFAULT_WAIT_MAX,
    DEFAULT_WAIT_MIN,
    ENV_COMMON_COUNT,
    ENV_ESTIMATORS,
    ENV_SAMPLES_FILE,
    ENV_SCENARIO,
    ENV_SEED,
    ENV_WAIT_MAX,
    ENV_WAIT_MIN,
    HIT,
    JOB_DONE,
    JOB_EVENT_TYPE,
    JOB_FAILED,
    JOB_UNFINISHED,
    MISS,
    PREDICT,
    SCENARIOS,
    SHED,
    SUBMIT,
    labelled,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
DEFAULT_DATASET = REPO_ROOT.parent / "shared" / "data" / "gapminder-sids"
DATA_FILE = "indicatorData.csv"
DATASET_CREDIT = "Data: Gapminder Systema Globalis (www.gapminder.org), CC BY 4.0."

LOOPBACK = "127.0.0.1"
MAX_USERS = 50
MAX_DURATION = 900
STARTUP_SECONDS = 60
STOP_TIMEOUT_SECONDS = {"sync": 60, "jobs": 130}  # in-flight iterations finish (job deadline 120)
LOCUST_GRACE_SECONDS = 120  # pool building and shutdown, on top of duration + stop timeout
# Environment variables that would point the server at shared storage: the run uses in-process.
STORAGE_VARIABLES = ("AZURE_STORAGE_", "JobsStorage")

MIX_P99_GOAL_MS = 2000.0
HIT_P99_GOAL_MS = 20.0
RSS_SAMPLE_SECONDS = 0.5
PERCENTILES = (50, 95, 99)
METRIC_PREFIXES = (
    "sids_trainings_rejected_total",
    "sids_cache_lookups_total",
    "sids_jobs_total",
    "sids_jobs_waiting",
    "sids_job_duration_seconds_sum",  # run time of the jobs the worker trained (not queue wait)
    "sids_job_duration_seconds_count",
)
TOP_ERRORS = 10


@dataclass(frozen=True)
class RunConfig:
    """One scenario run: what to run, how hard, for how long, over which data, where to write."""

    scenario: str
    users: int
    duration: int
    dataset: Path | None  # None: the built-in demo dataset
    out_dir: Path
    seed: int = DEFAULT_SEED
    wait_min: float = DEFAULT_WAIT_MIN
    wait_max: float = DEFAULT_WAIT_MAX
    common_count: int = DEFAULT_COMMON_COUNT
    estimators: int = DEFAULT_ESTIMATORS
    training_processes: int | None = None  # None: the service's default (TRAINING_PROCESSES)

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"scenario must be one of {SCENARIOS}")
        if not 1 <= self.users <= MAX_USERS or not 1 <= self.duration <= MAX_DURATION:
            raise ValueError(f"users in 1..{MAX_USERS} and duration in 1..{MAX_DURATION} s")
        if not 0 <= self.wait_min <= self.wait_max:
            raise ValueError("think time: 0 <= wait_min <= wait_max")


# ---- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def server_environment(
    dataset: Path | None, scratch: Path, training_processes: int | None = None
) -> dict[str, str]:
    """The service's defaults over `dataset`, or over an empty folder (the demo dataset)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(STORAGE_VARIABLES)}
    if training_processes is not None:
        env["TRAINING_PROCESSES"] = str(training_processes)
    # The scrape of /metrics needs it open; the simulated users all come from one loopback
    # address, which the per-client limit would otherwise treat as one client.
    env |= {"METRICS_PUBLIC": "true", "MAX_TRAININGS_PER_CLIENT": "1000"}
    if dataset is None:
        empty = scratch / "empty-dataset"
        empty.mkdir(parents=True, exist_ok=True)
        return env | {"DATASET_PATH": str(empty), "DEMO_DATA_FALLBACK": "true"}
    return env | {"DATASET_PATH": str(dataset), "DEMO_DATA_FALLBACK": "false"}


def http_get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_ready(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if http_get(f"{url}/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"server not ready within {STARTUP_SECONDS} s")


@contextmanager
def serve(
    dataset: Path | None, out_dir: Path, training_processes: int | None = None
) -> Iterator[tuple[str, int]]:
    """uvicorn serving the app factory on a free loopback port; yields its URL and pid.

    Its log goes to a file (a pipe nobody reads would fill up and block the server under load).
    """
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "api_app.app:create_app", "--factory"]
    command += ["--host", LOOPBACK, "--port", str(port)]
    log = out_dir / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=server_environment(dataset, out_dir, training_processes),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_until_ready(url, server, log)
        yield url, server.pid
    finally:
        server.kill()
        server.wait(timeout=10)


class PeakMemory:
    """Samples the resident memory of the server and of its worker processes in a thread."""

    def __init__(self, pid: int) -> None:
        self.server = psutil.Process(pid)
        self.peak_total = self.peak_server = 0
        self.processes = 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_SECONDS):
            try:
                server = self.server.memory_info().rss
                children = self.server.children(recursive=True)
                total = server + sum(_rss(child) for child in children)
            except psutil.Error:
                continue
            self.peak_server = max(self.peak_server, server)
            self.peak_total = max(self.peak_total, total)
            self.processes = max(self.processes, 1 + len(children))


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:  # ended between listing and reading
        return 0


def scrape_metrics(url: str) -> dict[str, float]:
    """The service's own counters of shedding, cache lookups and jobs (from /metrics)."""
    status, body = http_get(f"{url}/metrics")
    if status != 200:
        return {}
    figures = {}
    for line in body.decode().splitlines():
        if line.startswith(METRIC_PREFIXES) and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            figures[name] = float(value)
    return figures


def server_log_problems(log: Path) -> dict[str, Any]:
    """Lines of the server log at ERROR or with a traceback, and the first few of them."""
    lines = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if '"level": "ERROR"' in line or "Traceback" in line or line.startswith("ERROR")
    ]
    return {"error_lines": len(lines), "first": [line[:300] for line in lines[:3]]}


# ---- locust -----------------------------------------------------------------------------------


def locust_command(config: RunConfig, url: str, csv_prefix: Path) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "-u", str(config.users), "-r", str(config.users), "-t", f"{config.duration}s",
        "--host", url, "--csv", str(csv_prefix), "--only-summary",
        "--stop-timeout", str(STOP_TIMEOUT_SECONDS[config.scenario]),
        "--exit-code-on-error", "0", "--loglevel", "WARNING",
    ]  # fmt: skip


def run_locust(config: RunConfig, url: str) -> tuple[dict[str, Any], float]:
    """Run the scenario; the samples the locustfile recorded, and locust's CPU seconds."""
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise ValueError(f"refusing a non-loopback target: {url}")
    samples = config.out_dir / "samples.json"
    env = os.environ | {
        ENV_SCENARIO: config.scenario,
        ENV_SAMPLES_FILE: str(samples),
        ENV_SEED: str(config.seed),
        ENV_WAIT_MIN: str(config.wait_min),
        ENV_WAIT_MAX: str(config.wait_max),
        ENV_COMMON_COUNT: str(config.common_count),
        ENV_ESTIMATORS: str(config.estimators),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    limit = config.duration + STOP_TIMEOUT_SECONDS[config.scenario] + LOCUST_GRACE_SECONDS
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (config.out_dir / "locust.log").open("wb") as log:
        done = subprocess.run(
            locust_command(config, url, config.out_dir / "locust"),
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=limit,
            check=False,
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or not samples.is_file():
        tail = (config.out_dir / "locust.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"locust exited with {done.returncode}:\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(samples.read_text()), cpu


# ---- the figures ------------------------------------------------------------------------------


def percentile(sorted_ms: list[float], rank: float) -> float:
    """Nearest-rank percentile of sorted values (0 for none)."""
    if not sorted_ms:
        return 0.0
    return sorted_ms[max(0, math.ceil(rank / 100 * len(sorted_ms)) - 1)]


def row(
    times: list[float], failures: int, window: float, sizes: list[int] | None = None
) -> dict[str, float]:
    """Count, failures, requests per second, percentiles, max; median body size when given."""
    ordered = sorted(times)
    figures = {"count": len(ordered), "failures": failures, "rps": len(ordered) / window}
    figures |= {f"p{rank}_ms": percentile(ordered, rank) for rank in PERCENTILES}
    figures["max_ms"] = ordered[-1] if ordered else 0.0
    figures["mean_ms"] = sum(ordered) / len(ordered) if ordered else 0.0
    return figures | {"median_bytes": percentile(sorted(sizes or [0]), 50)}


def aggregate(samples: list[list[Any]], window: float) -> dict[str, float]:
    """The `row` of a group of samples (type, name, ms, failed, status, end, bytes)."""
    times, sizes = [s[2] for s in samples], [s[6] for s in samples]
    return row(times, sum(bool(s[3]) for s in samples), window, sizes)


def per_name(samples: list[list[Any]], window: float) -> dict[str, dict[str, float]]:
    """One `row` per request name, names sorted."""
    groups: dict[str, list[list[Any]]] = defaultdict(list)
    for sample in samples:
        groups[sample[1]].append(sample)
    return {name: aggregate(groups[name], window) for name in sorted(groups)}


def hits_by_training(samples: list[list[Any]], hit_name: str, sync: bool) -> dict[str, Any]:
    """Cache-hit latency with no training in flight, and while one is (sync: a predict miss;
    jobs: a queued job, submission to completion): trainings share the process and its cores."""
    busy_names = {labelled(PREDICT, MISS)} if sync else {JOB_DONE, JOB_FAILED, JOB_UNFINISHED}
    busy = [(end - ms / 1000, end) for _, name, ms, _, _, end, _ in samples if name in busy_names]
    split: dict[str, list[float]] = {"idle": [], "training": []}
    for _, name, ms, _, _, end, _ in samples:
        if name == hit_name:
            start = end - ms / 1000
            during = any(begin < end and finish > start for begin, finish in busy)
            split["training" if during else "idle"].append(ms)
    return {
        key: {"count": len(times), **{f"p{r}_ms": percentile(sorted(times), r) for r in (50, 99)}}
        for key, times in split.items()
    }


def summarize(document: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report, from the locustfile's samples."""
    window = max(document["stopped"] - document["started"], 1e-9)
    http = [s for s in document["samples"] if s[0] != JOB_EVENT_TYPE]
    jobs = [s for s in document["samples"] if s[0] == JOB_EVENT_TYPE]
    mix = aggregate(http, window)
    counters = document["counters"]
    by_name = per_name(http, window)
    base = PREDICT if document["scenario"] == "sync" else SUBMIT
    predicts = [s for s in http if s[1].startswith(f"{base} [")]
    hit_name = labelled(base, HIT)
    extra = counters.get("task_exceptions", 0) + counters.get("iterations_cut_at_stop", 0)
    errors = sorted(document["errors"], key=lambda e: -e[2])[:TOP_ERRORS]
    return {
        "scenario": document["scenario"],
        "window_seconds": window,
        "seed": document["seed"],
        "wait_seconds": document["wait_seconds"],
        "requests": by_name,
        "mix": mix,
        "predicts": aggregate(predicts, window),
        "job_events": per_name(jobs, window),
        "error_rate": (mix["failures"] + extra) / max(len(http) + extra, 1),
        "errors": mix["failures"] + extra,
        "shed_503": sum(1 for s in http if s[1].endswith(f"[{SHED}]")),
        "cache_hit": {"name": hit_name, **by_name.get(hit_name, row([], 0, window))},
        "cache_hit_by_training": hits_by_training(
            document["samples"], hit_name, document["scenario"] == "sync"
        ),
        "jobs": job_counts(counters) if document["scenario"] == "jobs" else None,
        "counters": counters,
        "pool": document["pool"],
        "top_errors": errors,
    }


def job_counts(counters: dict[str, int]) -> dict[str, int]:
    unfinished = counters.get("jobs_unfinished", 0) + counters.get("jobs_unfinished_at_stop", 0)
    return {
        "submitted": counters.get("jobs_submitted", 0),
        "completed": counters.get("jobs_completed", 0),
        "completed_at_once": counters.get("jobs_completed_at_once", 0),
        "failed": counters.get("jobs_failed", 0),
        "unfinished": unfinished,
    }


def goals(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(goal, measured, PASS/FAIL) for each goal of the issue that applies to the scenario."""
    hit = figures["cache_hit"]
    checks = [
        ("zero errors", f"{figures['errors']} ({figures['shed_503']} of them 503)",
         figures["errors"] == 0),
        (f"mix p99 < {MIX_P99_GOAL_MS:g} ms", f"{figures['mix']['p99_ms']:.0f} ms",
         figures["mix"]["p99_ms"] < MIX_P99_GOAL_MS),
        (f"cache-hit p99 < {HIT_P99_GOAL_MS:g} ms",
         f"{hit['p99_ms']:.1f} ms ({hit['count']} hits)",
         hit["count"] > 0 and hit["p99_ms"] < HIT_P99_GOAL_MS),
    ]  # fmt: skip
    if figures["jobs"] is not None:
        jobs = figures["jobs"]
        done = jobs["completed"] == jobs["submitted"] and jobs["submitted"] > 0
        text = f"{jobs['completed']}/{jobs['submitted']} completed"
        checks.append(("every job completes", text, done))
    return [(goal, measured, "PASS" if ok else "FAIL") for goal, measured, ok in checks]


# ---- the report -------------------------------------------------------------------------------

NAME_WIDTH = 32
HEADER = f"{'request':<{NAME_WIDTH}}{'count':>7}{'fail':>6}{'req/s':>8}" + "".join(
    f"{column:>9}" for column in ("p50", "p95", "p99", "max", "body")
)


def table_line(name: str, figures: dict[str, float]) -> str:
    times = "".join(f"{figures[key]:>7.0f}ms" for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
    counts = f"{figures['count']:>7}{figures['failures']:>6}{figures['rps']:>8.2f}"
    size = f"{figures['median_bytes'] / 1024:>7.1f}KB"
    return f"{name:<{NAME_WIDTH}}{counts}{times}{size}"


def report(figures: dict[str, Any]) -> str:
    """The human-readable report of one scenario run."""
    lines = [f"scenario {figures['scenario']}: {describe(figures)}", "", HEADER]
    lines += [table_line(name, row) for name, row in figures["requests"].items()]
    lines.append(table_line("all predicts (hits and misses)", figures["predicts"]))
    lines.append(table_line("all HTTP requests (mix)", figures["mix"]))
    for name, row in figures["job_events"].items():
        lines.append(table_line(f"{name} (end to end)", row))
    lines += ["", *facts(figures), ""]
    lines += [f"{goal:<28}{measured:>32}  {verdict}" for goal, measured, verdict in goals(figures)]
    return "\n".join(lines)


def describe(figures: dict[str, Any]) -> str:
    env = figures.get("environment", {})
    wait = figures["wait_seconds"]
    return (
        f"{env.get('users')} users, {figures['window_seconds']:.0f} s measured, think time "
        f"{wait[0]:g}-{wait[1]:g} s, seed {figures['seed']}, dataset {env.get('dataset')}"
    )


def facts(figures: dict[str, Any]) -> list[str]:
    counters, env, hit = figures["counters"], figures.get("environment", {}), figures["cache_hit"]
    new, common = counters.get("new_drawn", 0), counters.get("common_drawn", 0)
    lines = [
        f"error rate {figures['error_rate']:.2%} ({figures['errors']} errors, "
        f"{figures['shed_503']} of them 503 load shedding, "
        f"{counters.get('task_exceptions', 0)} task exceptions, "
        f"{counters.get('iterations_cut_at_stop', 0)} iterations cut short at the stop)",
        f"cache hits ({hit['name']}): p50 {hit['p50_ms']:.1f} ms, p95 {hit['p95_ms']:.1f} ms, "
        f"p99 {hit['p99_ms']:.1f} ms over {hit['count']}",
        "  with no training in flight: {idle}; while one trains: {training}".format(
            **{k: short(v) for k, v in figures["cache_hit_by_training"].items()}
        ),
        f"predicts drawn: {common} common ({len(figures['pool']['common'])} requests), {new} new "
        f"(pool {figures['pool']['new_size']}, wrapped {counters.get('new_pool_wrapped', 0)})",
    ]
    if figures["jobs"] is not None:
        jobs = figures["jobs"]
        lines.append(
            f"jobs: {jobs['submitted']} submitted, {jobs['completed']} completed "
            f"({jobs['completed_at_once']} at once from the cache), {jobs['failed']} failed, "
            f"{jobs['unfinished']} unfinished"
        )
        lines += job_timing(figures)
    if env:
        lines += environment_lines(env)
    lines += [f"top error: {count} x {name}: {text}" for name, text, count in figures["top_errors"]]
    return lines


def job_timing(figures: dict[str, Any]) -> list[str]:
    """Mean end to end time of queued jobs against the worker's mean run time (the rest is
    waiting in the queue and polling)."""
    metrics = figures.get("environment", {}).get("server_metrics", {})
    total = sum(v for k, v in metrics.items() if k.startswith("sids_job_duration_seconds_sum"))
    runs = sum(v for k, v in metrics.items() if k.startswith("sids_job_duration_seconds_count"))
    done = figures["job_events"].get(JOB_DONE)
    if not runs or not done:
        return []
    return [
        f"queued jobs: mean {done['mean_ms'] / 1000:.2f} s end to end, of which the worker's "
        f"mean run time {total / runs:.2f} s ({runs:g} trained); the rest is queue wait + polling"
    ]


def short(figures: dict[str, float]) -> str:
    return f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms over {figures['count']}"


def environment_lines(env: dict[str, Any]) -> list[str]:
    return [
        f"machine: {env['cores']} cores, load average {env['load_before']:.2f} before / "
        f"{env['load_after']:.2f} after; CPU used: server {env['server_cpu_seconds']:.0f} s, "
        f"locust {env['locust_cpu_seconds']:.0f} s",
        f"peak RSS: {env['peak_rss_mb']:.0f} MB over {env['processes']} processes (web process "
        f"{env['peak_server_rss_mb']:.0f} MB); training processes: "
        f"{_processes_text(env['training_processes'])}; {env['estimators']} trees",
        "server metrics: "
        + ", ".join(f"{name} {value:g}" for name, value in sorted(env["server_metrics"].items())),
        f"server log: {env['server_log']['error_lines']} error lines",
    ]


def _processes_text(count: int | None) -> str:
    if count is None:
        return "the service's default"
    return "none (threads of the web process)" if count == 0 else str(count)


# ---- one run ----------------------------------------------------------------------------------


def run_scenario(config: RunConfig) -> dict[str, Any]:
    """Start a server, run the scenario against it, stop it; the figures with their context."""
    config.out_dir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    with serve(config.dataset, config.out_dir, config.training_processes) as (url, pid):
        with PeakMemory(pid) as memory:
            document, locust_cpu = run_locust(config, url)
        metrics = scrape_metrics(url)
        server = psutil.Process(pid)
        server_cpu = sum(server.cpu_times()[:4])
        server_cpu += sum(sum(child.cpu_times()[:2]) for child in server.children(recursive=True))
    figures = summarize(document)
    figures["environment"] = {
        **asdict(config),
        "dataset": str(config.dataset) if config.dataset else "built-in demo dataset",
        "out_dir": str(config.out_dir),
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "server_cpu_seconds": server_cpu,
        "locust_cpu_seconds": locust_cpu,
        "server_metrics": metrics,
        "peak_rss_mb": memory.peak_total / 2**20,
        "peak_server_rss_mb": memory.peak_server / 2**20,
        "processes": memory.processes,
        "server_log": server_log_problems(config.out_dir / "server.log"),
    }
    figures["goals"] = {goal: verdict for goal, _, verdict in goals(figures)}
    return figures


def default_dataset() -> Path | None:
    """The real dataset when it is there, else None (the demo dataset)."""
    return DEFAULT_DATASET if (DEFAULT_DATASET / DATA_FILE).is_file() else None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "both"], default="both")
    parser.add_argument("--duration", type=int, default=180, help="seconds of load per scenario")
    parser.add_argument("--users", type=int, default=10, help="concurrent users")
    parser.add_argument("--dataset", type=Path, default=default_dataset(), help="dataset folder")
    parser.add_argument("--demo", action="store_true", help="use the built-in demo dataset")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--estimators", type=int, default=DEFAULT_ESTIMATORS, help="trees")
    parser.add_argument(
        "--training-processes",
        type=int,
        nargs="+",
        default=[None],
        help="TRAINING_PROCESSES of the server; several: one run each (0: threads)",
    )
    parser.add_argument("--wait-min", type=float, default=DEFAULT_WAIT_MIN, help="think time, s")
    parser.add_argument("--wait-max", type=float, default=DEFAULT_WAIT_MAX, help="think time, s")
    parser.add_argument("--out", type=Path, help="keep logs, samples and locust CSVs here")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    if not 1 <= args.users <= MAX_USERS or not 1 <= args.duration <= MAX_DURATION:
        parser.error(f"--users in 1..{MAX_USERS}, --duration in 1..{MAX_DURATION}")
    if args.dataset is not None and not (args.dataset / DATA_FILE).is_file():
        parser.error(f"no {DATA_FILE} in {args.dataset}")
    return args


def main() -> None:
    args = parse_args()
    dataset = None if args.demo else args.dataset
    if dataset is not None:
        print(DATASET_CREDIT)
    scenarios = SCENARIOS if args.scenario == "both" else (args.scenario,)
    out_root = args.out or Path(tempfile.mkdtemp(prefix="sids-load-"))
    results = {}
    for processes in args.training_processes:
        for scenario in scenarios:
            name = scenario if processes is None else f"{scenario}-processes-{processes}"
            config = RunConfig(
                scenario, args.users, args.duration, dataset, out_root / name,
                args.seed, args.wait_min, args.wait_max, DEFAULT_COMMON_COUNT, args.estimators,
                processes,
            )  # fmt: skip
            results[name] = run_scenario(config)
            print(report(results[name]), end="\n\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"figures written to {args.json}")
    if args.out is None:
        shutil.rmtree(out_root, ignore_errors=True)
    else:
        print(f"logs, samples and locust CSVs in {out_root}")


if __name__ == "__main__":
    main()
