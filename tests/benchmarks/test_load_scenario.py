"""The load scenario cannot rot: a short run of each scenario on the demo dataset, end to end.

Each run starts its own uvicorn server on loopback and runs locust (2 users, a few seconds)
through `benchmarks.load.run`; the report must have its fields, no error, and every job done.
Latency goals are not asserted here: they belong to the full run on the real dataset.
"""

from pathlib import Path
from typing import Any

from benchmarks.load import HEALTH, HIT, MISS, POLL, PREDICT, SUBMIT, labelled
from benchmarks.load.run import HIT_P99_GOAL_MS, RunConfig, goals, report, run_scenario

# locust runs in a subprocess: importing it here would monkey-patch this process with gevent.
SMOKE_USERS = 2
SMOKE_SECONDS = 8
SMOKE_WAIT = (0.2, 0.5)  # short think time: more iterations in a short run
SMOKE_COMMON = 2  # two common requests: repeats (cache hits) come within a few iterations
FIGURE_KEYS = {"count", "failures", "rps", "p50_ms", "p95_ms", "p99_ms", "max_ms"}


def smoke_run(scenario: str, out_dir: Path) -> dict[str, Any]:
    config = RunConfig(
        scenario=scenario,
        users=SMOKE_USERS,
        duration=SMOKE_SECONDS,
        dataset=None,
        out_dir=out_dir,
        wait_min=SMOKE_WAIT[0],
        wait_max=SMOKE_WAIT[1],
        common_count=SMOKE_COMMON,
        estimators=10,  # the smoke run checks the machinery, not the front end's settings
    )
    return run_scenario(config)


def assert_common_report(figures: dict[str, Any]) -> None:
    assert figures["errors"] == 0, figures["top_errors"]
    assert figures["error_rate"] == 0
    assert figures["shed_503"] == 0
    assert FIGURE_KEYS <= set(figures["mix"])
    assert figures["mix"]["count"] > 0 and figures["mix"]["rps"] > 0
    assert figures["requests"][HEALTH]["count"] > 0
    assert len(figures["pool"]["common"]) == SMOKE_COMMON and figures["pool"]["new_size"] > 0
    assert figures["environment"]["server_log"]["error_lines"] == 0
    assert [goal for goal, _, _ in goals(figures)][:3] == [
        "zero errors",
        "mix p99 < 2000 ms",
        f"cache-hit p99 < {HIT_P99_GOAL_MS:g} ms",
    ]
    assert figures["environment"]["peak_rss_mb"] >= figures["environment"]["peak_server_rss_mb"] > 0
    text = report(figures)
    assert "all HTTP requests (mix)" in text and "PASS" in text


def test_sync_scenario_smoke(tmp_path: Path) -> None:
    figures = smoke_run("sync", tmp_path)
    assert_common_report(figures)
    names = set(figures["requests"])
    assert labelled(PREDICT, MISS) in names  # the first requests train
    assert labelled(PREDICT, HIT) in names  # and repeating them is answered from the cache
    assert figures["cache_hit"]["count"] == figures["requests"][labelled(PREDICT, HIT)]["count"]
    assert figures["jobs"] is None


def test_jobs_scenario_smoke(tmp_path: Path) -> None:
    figures = smoke_run("jobs", tmp_path)
    assert_common_report(figures)
    jobs = figures["jobs"]
    assert jobs["submitted"] > 0
    assert jobs["completed"] == jobs["submitted"]
    assert jobs["failed"] == 0 and jobs["unfinished"] == 0
    assert POLL in figures["requests"]
    assert any(name.startswith(SUBMIT) for name in figures["requests"])
    assert figures["goals"]["every job completes"] == "PASS"
