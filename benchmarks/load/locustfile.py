"""The front end's use of the predict route, as a locust scenario (headless, loopback only).

Each iteration of a user: `GET /healthz`, then one predict, then a think time (uniform in
LOAD_WAIT_MIN..LOAD_WAIT_MAX seconds, or the Retry-After of a 503 when that is longer: what the
front end should do). 95% of the predicts repeat one of a few common requests (cache hits once
answered), 5% ask a new target, year or tree count (cache misses); the mix is seeded (LOAD_SEED).

Scenarios (LOAD_SCENARIO):

- `sync`: `POST /twolvlImp/predict`. Recorded as `predict [hit]` / `predict [miss]` from the
  `X-Cache` header, `predict [503]` for load shedding, `predict [error]` for any other failure.
- `jobs`: `POST /jobs {model: twolvlImp, endpoint: predict, request}` (`POST /jobs [hit]` when the
  job is completed at once from the cache, `[queued]` otherwise), then `GET /jobs/{id}` every
  POLL_SECONDS until completed or failed, within JOB_DEADLINE_SECONDS of the submission. A queued
  job that completes fires a synthetic `JOB` event `job done [queued]` (submission to completion
  seen); a failed job `job failed`, one past its deadline `job unfinished`; both are failures.

The request pool is built once, before the users start, from the server's own option lists
(`/twolvlImp/target_years`, `datasets`, `targets`, `predictors`), so it fits whatever dataset the
server has. Common requests (COMMON_PLAN): KNNImputer, rfr, LOAD_ESTIMATORS trees (100, the
front end's default), quantile, on the dataset
with the most targets (`wdi` on Gapminder) in 2005, 2010, 2015 and 2019 (or years spread over the
data): three MANUAL with the first 3 predictors, two AFS with 10. New requests: NEW_CASES other
(year, target) pairs of any dataset, 60% MANUAL / 40% AFS, each with the tree counts
NEW_ESTIMATORS (240 requests), shuffled and handed out in turn, so each is asked once (a miss).
Every sample is also kept in memory and written as JSON to LOAD_SAMPLES_FILE when the
test stops, with the counters (jobs completed, failed, unfinished; 503s; new requests drawn),
for `benchmarks.load.run` to report.

Run by hand from the repository root (`python -m` puts it on the path for `benchmarks.load`),
against a server on loopback:

    LOAD_SCENARIO=sync .venv/bin/python -m locust -f benchmarks/load/locustfile.py --headless \\
        -u 10 -r 10 -t 180s --host http://127.0.0.1:7071

`python -m benchmarks.load.run` starts the server, runs this and prints the report.
"""

import ipaddress
import itertools
import json
import logging
import math
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gevent
import requests
from gevent import GreenletExit
from locust import FastHttpUser, events, task
from locust.env import Environment

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
    ERROR,
    HEALTH,
    HIT,
    JOB_DONE,
    JOB_EVENT_TYPE,
    JOB_FAILED,
    JOB_UNFINISHED,
    MISS,
    POLL,
    PREDICT,
    QUEUED,
    SCENARIOS,
    SHED,
    SUBMIT,
    labelled,
)
from common.core.settings import Settings

logger = logging.getLogger(__name__)

SCENARIO = os.environ.get(ENV_SCENARIO, "sync")
SEED = int(os.environ.get(ENV_SEED, DEFAULT_SEED))
WAIT_MIN = float(os.environ.get(ENV_WAIT_MIN, DEFAULT_WAIT_MIN))
WAIT_MAX = float(os.environ.get(ENV_WAIT_MAX, DEFAULT_WAIT_MAX))
COMMON_COUNT = int(os.environ.get(ENV_COMMON_COUNT, DEFAULT_COMMON_COUNT))
ESTIMATORS = int(os.environ.get(ENV_ESTIMATORS, DEFAULT_ESTIMATORS))

NEW_SHARE = 0.05  # predicts asking something new; the rest repeat a common request
PREFERRED_YEARS = (2005, 2010, 2015, 2019)  # the latency benchmark's years, when present
YEAR_COUNT = 4
# The common requests: (scheme, index into the years, rank of the target in the main dataset).
COMMON_PLAN = (("MANUAL", 0, 0), ("MANUAL", 1, 0), ("MANUAL", 2, 0), ("AFS", 0, 1), ("AFS", 3, 1))
BASE_FIELDS: dict[str, Any] = {
    "interpolator": "KNNImputer",
    "model": "rfr",
    "estimators": ESTIMATORS,
    "interval": "quantile",
}
MANUAL_PREDICTORS = 3
AFS_PREDICTORS = 10
NEW_CASES = 60  # (year, target) pairs for new requests ...
# ... each asked with these tree counts (12, 16, 20, 25 at 10 trees): 240 distinct requests
NEW_ESTIMATORS = tuple(round(ESTIMATORS * factor) for factor in (1.2, 1.6, 2.0, 2.5))
NEW_AFS_SHARE = 0.4

SETUP_TIMEOUT_SECONDS = 30
# Longer than the service waits for a sync training (SYNC_TIMEOUT_SECONDS, then 504).
REQUEST_TIMEOUT_SECONDS = Settings.model_fields["sync_timeout_seconds"].default + 20
POLL_SECONDS = 0.25
JOB_DEADLINE_SECONDS = 120
LOOPBACK_NAMES = ("localhost",)


# ---- the request pool -----------------------------------------------------------------------


@dataclass
class Pool:
    """The common requests and the new ones, the latter handed out in order to all users."""

    common: list[dict[str, Any]]
    new: list[dict[str, Any]]
    _draws: itertools.count = field(default_factory=itertools.count)

    def next_new(self) -> dict[str, Any]:
        draw = next(self._draws)
        COUNTERS["new_drawn"] += 1
        if draw >= len(self.new):
            COUNTERS["new_pool_wrapped"] += 1  # asked again: likely a hit, named so anyway
        return self.new[draw % len(self.new)]


class Options:
    """The server's option lists, read once through a plain HTTP session (not measured)."""

    def __init__(self, host: str) -> None:
        self.host = host.rstrip("/")
        self.session = requests.Session()

    def get(self, path: str, **params: Any) -> Any:
        response = self.session.get(self.url(path), params=params, timeout=SETUP_TIMEOUT_SECONDS)
        return self._checked(response)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.session.post(self.url(path), json=body, timeout=SETUP_TIMEOUT_SECONDS)
        return self._checked(response)

    def url(self, path: str) -> str:
        return f"{self.host}/twolvlImp{path}"

    @staticmethod
    def _checked(response: requests.Response) -> Any:
        if response.status_code != 200:
            raise SystemExit(f"{response.url} answered {response.status_code}: {response.text}")
        return response.json()


def pick_years(years: list[int]) -> list[int]:
    """The preferred years the server has, else YEAR_COUNT years evenly spread over its list."""
    preferred = [year for year in PREFERRED_YEARS if year in years]
    if len(preferred) == YEAR_COUNT or len(years) < YEAR_COUNT:
        return preferred or years
    step = (len(years) - 1) / (YEAR_COUNT - 1)
    return [years[round(index * step)] for index in range(YEAR_COUNT)]


def read_targets(options: Options, years: list[int]) -> dict[tuple[int, str], list[str]]:
    """(year, dataset) -> the dataset's targets that year, sorted."""
    targets = {}
    for year in years:
        for dataset in sorted(options.get("/datasets", target_year=year)):
            found = options.get("/targets", target_year=year, dataset=dataset)
            targets[(year, dataset)] = sorted(found)
    return targets


def predict_body(
    options: Options, year: int, dataset: str, target: str, scheme: str
) -> dict[str, Any] | None:
    """A predict request for the target (ESTIMATORS trees); None when it has no predictors."""
    query = {"target_year": year, "dataset": dataset, "target": target, "scheme": scheme}
    choices = options.post("/predictors", query)
    if not choices:
        return None
    body = {**query, **BASE_FIELDS}
    if scheme == "MANUAL":
        return {**body, "manual_predictors": sorted(choices)[:MANUAL_PREDICTORS]}
    return {**body, "number_predictor": min(AFS_PREDICTORS, max(map(int, choices)))}


def common_requests(
    options: Options, years: list[int], targets: dict[tuple[int, str], list[str]]
) -> list[dict[str, Any]]:
    """COMMON_PLAN (its first COMMON_COUNT) over the dataset with the most targets each year."""
    bodies: list[dict[str, Any]] = []
    for scheme, year_index, rank in COMMON_PLAN[:COMMON_COUNT]:
        year = years[year_index % len(years)]
        dataset = max((key for key in targets if key[0] == year), key=lambda k: len(targets[k]))[1]
        listed = targets[(year, dataset)]
        body = predict_body(options, year, dataset, listed[rank % len(listed)], scheme)
        if body is not None and body not in bodies:
            bodies.append(body)
    return bodies


def new_requests(
    options: Options,
    targets: dict[tuple[int, str], list[str]],
    common: list[dict[str, Any]],
    rng: random.Random,
) -> list[dict[str, Any]]:
    """NEW_CASES other (year, target) pairs, each with every NEW_ESTIMATORS count, shuffled."""
    taken = {(body["target_year"], body["target"]) for body in common}
    cases = [
        (year, dataset, target)
        for (year, dataset), listed in sorted(targets.items())
        for target in listed
        if (year, target) not in taken
    ]
    rng.shuffle(cases)
    bodies = []
    for year, dataset, target in cases[:NEW_CASES]:
        scheme = "AFS" if rng.random() < NEW_AFS_SHARE else "MANUAL"
        body = predict_body(options, year, dataset, target, scheme)
        if body is not None:
            bodies += [{**body, "estimators": count} for count in NEW_ESTIMATORS]
    rng.shuffle(bodies)
    return bodies


def build_pool(host: str, seed: int) -> Pool:
    """Read the server's options and build the seeded pool of common and new requests."""
    options = Options(host)
    years = pick_years(sorted(options.get("/target_years")))
    targets = read_targets(options, years)
    common = common_requests(options, years, targets)
    new = new_requests(options, targets, common, random.Random(seed))
    if not common or not new:
        raise SystemExit(f"no predict requests could be built from {host} (years {years})")
    return Pool(common=common, new=new)


# ---- what is recorded -------------------------------------------------------------------------

COUNTERS: Counter[str] = Counter()
IN_FLIGHT_JOBS: set[str] = set()
STOPPING_AT = [math.inf]  # when the stop began (monotonic)


@dataclass
class Recorder:
    """Every request event (HTTP and synthetic), and the failures' messages by name."""

    # (type, name, milliseconds, failed, status, seconds from the start to the end, bytes)
    samples: list[tuple[str, str, float, bool, int | None, float, int]] = field(
        default_factory=list
    )
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    started: float = 0.0
    stopped: float = 0.0

    def add(
        self, kind: str, name: str, ms: float, exception: Any, status: int | None, length: int
    ) -> None:
        end = round(time.time() - self.started, 3)
        self.samples.append((kind, name, ms, exception is not None, status, end, length))
        if exception is not None:
            self.errors[(name, str(exception)[:200])] += 1

    def document(self, pool: Pool | None) -> dict[str, Any]:
        return {
            "scenario": SCENARIO,
            "seed": SEED,
            "wait_seconds": [WAIT_MIN, WAIT_MAX],
            "started": self.started,
            "stopped": self.stopped,
            "samples": self.samples,
            "errors": [[name, text, count] for (name, text), count in self.errors.items()],
            "counters": {
                **COUNTERS,
                "jobs_unfinished_at_stop": len(IN_FLIGHT_JOBS),
            },
            "pool": {
                "common": pool.common if pool else [],
                "new_size": len(pool.new) if pool else 0,
            },
        }


RECORDER = Recorder()
POOL: Pool | None = None


def check_loopback(host: str | None) -> None:
    """Refuse any target but this machine's loopback."""
    hostname = urlsplit(host or "").hostname or ""
    try:
        loopback = ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        loopback = hostname in LOOPBACK_NAMES
    if not loopback:
        raise SystemExit(f"--host must be a loopback address (127.0.0.0/8, ::1), not {host!r}")


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    """Check the target and build the pool before any user starts (not part of the run time)."""
    global POOL
    if SCENARIO not in SCENARIOS:
        raise SystemExit(f"{ENV_SCENARIO} must be one of {SCENARIOS}, not {SCENARIO!r}")
    check_loopback(environment.host)
    POOL = build_pool(environment.host or "", SEED)  # check_loopback refused None
    logger.info("pool: %d common requests, %d new ones", len(POOL.common), len(POOL.new))


@events.test_start.add_listener
def on_test_start(**_: Any) -> None:
    RECORDER.started = time.time()


@events.request.add_listener
def on_request(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int = 0,
    exception: Any = None,
    response: Any = None,
    **_: Any,
) -> None:
    status = _status(response)
    RECORDER.add(request_type, name, response_time, exception, status, response_length or 0)


@events.user_error.add_listener
def on_user_error(exception: Exception, **_: Any) -> None:
    """An exception in a task (a bug here, or an answer of the wrong shape) is an error too."""
    COUNTERS["task_exceptions"] += 1
    RECORDER.errors[("task", f"{type(exception).__name__}: {exception}"[:200])] += 1


@events.test_stopping.add_listener
def on_test_stopping(**_: Any) -> None:
    STOPPING_AT[0] = time.monotonic()


@events.test_stop.add_listener
def on_test_stop(**_: Any) -> None:
    RECORDER.stopped = time.time()
    target = os.environ.get(ENV_SAMPLES_FILE)
    if target:
        Path(target).write_text(json.dumps(RECORDER.document(POOL)))


def _status(response: Any) -> int | None:
    status = getattr(response, "status_code", None)
    return int(status) if status is not None else None


# ---- the users --------------------------------------------------------------------------------

USER_NUMBERS = itertools.count()


class FrontEndUser(FastHttpUser):
    """What both scenarios share: the health check, the request mix and the think time."""

    abstract = True
    network_timeout = REQUEST_TIMEOUT_SECONDS
    connection_timeout = SETUP_TIMEOUT_SECONDS

    def on_start(self) -> None:
        self.rng = random.Random(f"{SEED}-{next(USER_NUMBERS)}")
        self.retry_after = 0.0

    def wait_time(self) -> float:
        """The think time, or the last 503's Retry-After when that is longer."""
        pause = max(self.rng.uniform(WAIT_MIN, WAIT_MAX), self.retry_after)
        self.retry_after = 0.0
        return pause

    def next_request(self) -> dict[str, Any]:
        if POOL is None:
            raise RuntimeError("the request pool was not built")
        if self.rng.random() < NEW_SHARE:
            return POOL.next_new()
        COUNTERS["common_drawn"] += 1
        return self.rng.choice(POOL.common)

    @task
    def iteration(self) -> None:
        started = time.monotonic()
        try:
            self.client.get("/healthz", name=HEALTH)
            self.predict(self.next_request())
        except GreenletExit:
            # Begun before the stop and killed past the stop timeout: cut short, an error.
            # Begun after the stop began: locust's stop raced the end of a think time; harmless.
            cut = started < STOPPING_AT[0]
            COUNTERS["iterations_cut_at_stop" if cut else "iterations_begun_while_stopping"] += 1
            raise

    def predict(self, body: dict[str, Any]) -> None:
        raise NotImplementedError

    def shed(self, response: Any, base: str) -> None:
        """A 503: a failure of its own name; the next iteration waits for Retry-After."""
        COUNTERS["shed_503"] += 1
        self.retry_after = float(response.headers.get("Retry-After") or 0)
        response.request_meta["name"] = labelled(base, SHED)
        response.failure(f"503 {_code(response)}")


class SyncUser(FrontEndUser):
    """`POST /twolvlImp/predict`, named by its X-Cache header."""

    abstract = SCENARIO != "sync"

    def predict(self, body: dict[str, Any]) -> None:
        with self.client.post(
            "/twolvlImp/predict", json=body, name=PREDICT, catch_response=True
        ) as response:
            if response.status_code == 503:
                self.shed(response, PREDICT)
            elif response.status_code != 200:
                response.request_meta["name"] = labelled(PREDICT, ERROR)
                response.failure(f"{response.status_code} {_code(response)}")
            else:
                cache = (response.headers.get("X-Cache") or "").lower()
                response.request_meta["name"] = labelled(PREDICT, HIT if cache == HIT else MISS)
                if cache not in (HIT, MISS):
                    response.failure(f"X-Cache header is {cache!r}")


class JobsUser(FrontEndUser):
    """`POST /jobs` with the predict body, then `GET /jobs/{id}` until it is finished."""

    abstract = SCENARIO != "jobs"

    def predict(self, body: dict[str, Any]) -> None:
        submitted = time.monotonic()
        job = self.submit(body)
        if job is None:
            return
        COUNTERS["jobs_submitted"] += 1
        if job["status"] == "completed":
            COUNTERS["jobs_completed"] += 1
            COUNTERS["jobs_completed_at_once"] += 1
            return
        IN_FLIGHT_JOBS.add(job["id"])  # still there at the stop: unfinished
        self.poll(job["id"], submitted)
        IN_FLIGHT_JOBS.discard(job["id"])

    def submit(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The job as submitted, or None when the submission failed (recorded as such)."""
        payload = {"model": "twolvlImp", "endpoint": "predict", "request": body}
        with self.client.post("/jobs", json=payload, name=SUBMIT, catch_response=True) as response:
            if response.status_code == 503:
                self.shed(response, SUBMIT)
                return None
            if response.status_code != 202:
                response.request_meta["name"] = labelled(SUBMIT, ERROR)
                response.failure(f"{response.status_code} {_code(response)}")
                return None
            job = response.json()
            at_once = job["status"] == "completed"
            response.request_meta["name"] = labelled(SUBMIT, HIT if at_once else QUEUED)
            if at_once and job.get("result") is None:
                response.failure("completed at submission without a result")
                return None
            return job

    def poll(self, job_id: str, submitted: float) -> None:
        """Poll until completed or failed; past the deadline the job counts as unfinished."""
        deadline = submitted + JOB_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            gevent.sleep(POLL_SECONDS)  # not self.wait(): a stopping user finishes its job
            status, detail = self.poll_once(job_id)
            if status == "completed":
                COUNTERS["jobs_completed"] += 1
                self.job_event(JOB_DONE, submitted, None)
                return
            if status == "failed":
                COUNTERS["jobs_failed"] += 1
                self.job_event(JOB_FAILED, submitted, detail)
                return
        COUNTERS["jobs_unfinished"] += 1
        self.job_event(JOB_UNFINISHED, submitted, f"not finished in {JOB_DEADLINE_SECONDS} s")

    def poll_once(self, job_id: str) -> tuple[str | None, str]:
        """The job's status (None when the poll itself failed) and, once failed, why."""
        with self.client.get(f"/jobs/{job_id}", name=POLL, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {_code(response)}")
                return None, ""
            job = response.json()
            if job["status"] == "completed" and job.get("result") is None:
                response.failure("completed without a result")
                return "failed", "completed without a result"
            return job["status"], json.dumps(job.get("error"))[:200]

    def job_event(self, name: str, submitted: float, failure: str | None) -> None:
        """A synthetic request event: the job's time from submission to its end."""
        self.environment.events.request.fire(
            request_type=JOB_EVENT_TYPE,
            name=name,
            response_time=(time.monotonic() - submitted) * 1000,
            response_length=0,
            exception=RuntimeError(failure) if failure else None,
            context={},
        )


def _code(response: Any) -> str:
    """The `code` of an error body (`overloaded`), or the start of the body."""
    try:
        return str(response.json().get("code"))
    except (ValueError, AttributeError, TypeError):
        return (response.text or "")[:80]
