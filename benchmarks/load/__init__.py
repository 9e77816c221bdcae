"""Load test of the predict route as the front end uses it (locust, headless, loopback only).

`locustfile.py` is the scenario; `run.py` starts a server, runs the scenario against it and
reports the figures against the goals. From the repository root:

    .venv/bin/python -m benchmarks.load.run --scenario both --duration 180 --users 10

The names below are how `run.py` configures the locustfile (environment variables) and reads what
it recorded (a JSON file of samples); both sides import them from here.
"""

ENV_SCENARIO = "LOAD_SCENARIO"  # "sync" or "jobs"
ENV_SAMPLES_FILE = "LOAD_SAMPLES_FILE"  # where the locustfile writes its samples (JSON)
ENV_SEED = "LOAD_SEED"  # seed of the request mix
ENV_WAIT_MIN = "LOAD_WAIT_MIN"  # think time between iterations, seconds (uniform)
ENV_WAIT_MAX = "LOAD_WAIT_MAX"
ENV_COMMON_COUNT = "LOAD_COMMON_COUNT"  # how many common requests (at most 5)
ENV_ESTIMATORS = "LOAD_ESTIMATORS"  # trees of the common requests (new ones: 1.2x to 2.5x)

SCENARIOS = ("sync", "jobs")
DEFAULT_SEED = 2024
DEFAULT_WAIT_MIN = 0.5
DEFAULT_WAIT_MAX = 1.5
DEFAULT_COMMON_COUNT = 5
DEFAULT_ESTIMATORS = 100  # the front end's default

# Request names recorded in the samples (and in locust's own statistics).
HEALTH = "GET /healthz"
PREDICT = "predict"  # sync: "predict [hit]", "predict [miss]", "predict [503]", "predict [error]"
SUBMIT = "POST /jobs"  # "POST /jobs [hit]" (completed at once), "[queued]", "[503]", "[error]"
POLL = "GET /jobs/{id}"
JOB_EVENT_TYPE = "JOB"  # synthetic events (not HTTP requests): one per finished queued job
JOB_DONE = "job done [queued]"  # submission to seen completed, for jobs that were queued
JOB_FAILED = "job failed"
JOB_UNFINISHED = "job unfinished"  # still not finished at its polling deadline

HIT, MISS, QUEUED, SHED, ERROR = "hit", "miss", "queued", "503", "error"


def labelled(base: str, label: str) -> str:
    """A request name with its outcome: `predict [hit]`."""
    return f"{base} [{label}]"
