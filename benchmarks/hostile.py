"""Abandonment and memory benchmark: what hostile clients can hold, against a real server.

Starts uvicorn over the real dataset (../shared/data/gapminder-sids, else the demo dataset) with
the default limits (MAX_CONCURRENCY 2, MAX_QUEUE_LENGTH 8, MAX_TRAININGS_PER_CLIENT 4) behind one
trusted proxy (TRUSTED_PROXIES=1, so each client is an X-Forwarded-For address), then measures:

1. abandonment: 10 clients each send a slow predict (a different target each, IterativeImputer,
   300 trees, bootstrap) and hang up after 1 s: how long until every slot and waiting place is
   free again, and the latency of a fresh simple predict sent right after;
2. fairness: one client sends 10 slow predicts at once: how many are admitted, how many 429;
3. memory: the server's resident memory (sampled every 10 ms) while it answers the issue's body
   (10,000 survey records with a key each, 139 KB) and the worst body under MAX_REQUEST_BYTES
   (records with a key each, up to the byte limit).

    .venv/bin/python -m benchmarks.hostile [--dataset PATH] [--json FILE]

Takes one to two minutes. Only loopback addresses are used.
"""

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from benchmarks.load.run import (
    DEFAULT_DATASET,
    LOOPBACK,
    REPO_ROOT,
    free_port,
    server_environment,
    wait_until_ready,
)

CLIENTS = 10
HANG_UP_AFTER = 1.0
RELEASE_DEADLINE = 120
YEAR = 2015
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # the default of the setting


@contextmanager
def serve(dataset: Path | None, scratch: Path) -> Iterator[tuple[str, psutil.Process]]:
    environment = server_environment(dataset, scratch) | {
        "TRUSTED_PROXIES": "1",
        "MAX_TRAININGS_PER_CLIENT": "4",
        "METRICS_PUBLIC": "true",
        "LOG_LEVEL": "WARNING",
    }
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "api_app.app:create_app", "--factory"]
    command += ["--host", LOOPBACK, "--port", str(port)]
    log = scratch / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            command, cwd=REPO_ROOT, env=environment, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_until_ready(url, server, log)
        yield url, psutil.Process(server.pid)
    finally:
        server.kill()
        server.wait(timeout=10)


def request(
    url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes]:
    """One HTTP/1.1 request over a fresh socket; status and body."""
    import http.client

    connection = http.client.HTTPConnection(LOOPBACK, int(url.rsplit(":", 1)[1]), timeout=300)
    try:
        connection.request(
            method, path, body, {"content-type": "application/json", **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def hang_up(url: str, path: str, body: dict[str, Any], client: str) -> socket.socket:
    payload = json.dumps(body).encode()
    connection = socket.create_connection((LOOPBACK, int(url.rsplit(":", 1)[1])))
    connection.sendall(
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"X-Forwarded-For: {client}\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    return connection


def busy(url: str) -> float:
    _, body = request(url, "GET", "/metrics")
    values = {}
    for line in body.decode().splitlines():
        name, _, value = line.partition(" ")
        if name in ("sids_trainings_in_progress", "sids_trainings_queued"):
            values[name] = float(value)
    return sum(values.values())


def predict_bodies(url: str, count: int) -> list[dict[str, Any]]:
    """`count` slow predict requests on different targets (no two share a training)."""
    _, datasets = request(url, "GET", f"/twolvlImp/datasets?target_year={YEAR}")
    bodies = []
    for dataset in sorted(json.loads(datasets)):
        _, targets = request(url, "GET", f"/twolvlImp/targets?target_year={YEAR}&dataset={dataset}")
        for target in sorted(json.loads(targets)):
            bodies.append(
                {"target_year": YEAR, "dataset": dataset, "target": target, "scheme": "AFS",
                 "number_predictor": 8, "interpolator": "IterativeImputer", "model": "all",
                 "estimators": 300, "interval": "bootstrap"}
            )  # fmt: skip
            if len(bodies) == count:
                return bodies
    return bodies


def abandonment(url: str, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    connections = [
        hang_up(url, "/twolvlImp/predict", body, f"198.51.100.{n}") for n, body in enumerate(bodies)
    ]
    time.sleep(HANG_UP_AFTER)
    admitted = busy(url)
    hung_up = time.monotonic()
    for connection in connections:
        connection.close()
    while busy(url) > 0 and time.monotonic() - hung_up < RELEASE_DEADLINE:
        time.sleep(0.05)
    released = time.monotonic() - hung_up
    simple = {**bodies[0], "scheme": "MANUAL", "interpolator": "KNNImputer", "model": "rfr",
              "estimators": 10, "interval": "quantile", "number_predictor": None}  # fmt: skip
    _, predictors = request(url, "POST", "/twolvlImp/predictors", json.dumps(simple).encode(), {})
    simple["manual_predictors"] = sorted(json.loads(predictors))[:3]
    started = time.monotonic()
    status, _ = request(url, "POST", "/twolvlImp/predict", json.dumps(simple).encode())
    return {
        "clients": len(bodies),
        "admitted_while_connected": admitted,
        "seconds_until_all_slots_free": round(released, 2),
        "fresh_predict_status": status,
        "fresh_predict_seconds": round(time.monotonic() - started, 2),
    }


def fairness(url: str, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    statuses: list[int] = []

    def send(body: dict[str, Any]) -> None:
        statuses.append(
            request(url, "POST", "/twolvlImp/predict", json.dumps(body).encode(),
                    {"X-Forwarded-For": "203.0.113.9"})[0]
        )  # fmt: skip

    # Four are admitted and hang up at once; the rest are refused straight away.
    held = [hang_up(url, "/twolvlImp/predict", body, "203.0.113.9") for body in bodies[:4]]
    time.sleep(HANG_UP_AFTER)
    threads = [threading.Thread(target=send, args=(body,)) for body in bodies[4:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    for connection in held:
        connection.close()
    return {
        "sent": len(bodies),
        "admitted": 4 + statuses.count(200),
        "refused_429": statuses.count(429),
        "refused_503": statuses.count(503),
    }


def survey_body(keys: int) -> bytes:
    records = [{f"k{n}": n} for n in range(keys)]
    metadata = [{"Question Name": "k0", "Type": "categorical", "Factor": "f"}]
    return json.dumps({"data": records, "metadata": metadata, "factor": "f", "max_k": 3}).encode()


def peak_rss(url: str, process: psutil.Process, body: bytes) -> dict[str, Any]:
    baseline = process.memory_info().rss
    peak, done = baseline, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    status, _ = request(url, "POST", "/survey/clustering", body)
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    return {
        "body_bytes": len(body),
        "status": status,
        "seconds": round(elapsed, 2),
        "rss_before_mb": round(baseline / 2**20),
        "rss_growth_mb": round((peak - baseline) / 2**20, 1),
    }


def worst_body_under_limit() -> bytes:
    keys = MAX_REQUEST_BYTES // 12
    body = survey_body(keys)
    while len(body) > MAX_REQUEST_BYTES:
        keys = int(keys * 0.98)
        body = survey_body(keys)
    return body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args(argv)
    dataset = arguments.dataset if (arguments.dataset / "indicatorData.csv").is_file() else None
    figures: dict[str, Any] = {"dataset": str(dataset) if dataset else "demo"}
    with tempfile.TemporaryDirectory() as scratch, serve(dataset, Path(scratch)) as (url, process):
        bodies = predict_bodies(url, CLIENTS)
        figures["memory"] = {
            "issue_body": peak_rss(url, process, survey_body(10_000)),
            "worst_body_under_limit": peak_rss(url, process, worst_body_under_limit()),
        }
        figures["abandonment"] = abandonment(url, bodies)
        figures["fairness"] = fairness(url, bodies)
        deadline = time.monotonic() + RELEASE_DEADLINE
        while busy(url) > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        figures["fairness"]["seconds_until_free_after_hang_up"] = round(
            RELEASE_DEADLINE - (deadline - time.monotonic()), 1
        )
    text = json.dumps(figures, indent=2)
    print(text)
    if arguments.json:
        arguments.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
