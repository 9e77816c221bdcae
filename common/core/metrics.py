"""Prometheus metrics of one process (a registry per app or worker, so tests stay independent)."""

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST as PROMETHEUS_CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

__all__ = ["PROMETHEUS_CONTENT_TYPE", "Metrics"]

# The `_created` series double the output and nothing here reads them.
disable_created_metrics()

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics:
    """Every metric the service exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "sids_http_requests", "HTTP requests by route and status.",
            ["method", "route", "status"], registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "sids_http_request_duration_seconds", "HTTP request latency by route.",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.trainings_in_progress = Gauge(
            "sids_trainings_in_progress", "Trainings running in this process.", registry=registry
        )
        self.trainings_queued = Gauge(
            "sids_trainings_queued", "Trainings waiting for a slot in this process.",
            registry=registry,
        )  # fmt: skip
        self.rejected = Counter(
            "sids_trainings_rejected", "Trainings refused with 503 (limits reached).",
            registry=registry,
        )  # fmt: skip
        self.rejected_per_client = Counter(
            "sids_trainings_rejected_per_client",
            "Heavy requests refused with 429 (the client's MAX_TRAININGS_PER_CLIENT reached).",
            registry=registry,
        )
        self.abandoned = Counter(
            "sids_trainings_abandoned",
            "Heavy work cancelled because every client waiting for it hung up.",
            registry=registry,
        )
        self.cache = Counter(
            "sids_cache_lookups", "Result cache lookups by result (hit or miss).",
            ["result"], registry=registry,
        )  # fmt: skip
        self.shared_matrices = Counter(
            "sids_shared_matrices",
            "Derived matrices (a year's imputed predictors) this process needed, by where they "
            "came from: shared (the blob store), computed (and stored), ignored (a blob that "
            "did not match, recomputed), unavailable (storage failed, computed).",
            ["source"], registry=registry,
        )  # fmt: skip
        self.jobs = Counter(
            "sids_jobs", "Jobs reaching each status.", ["status"], registry=registry
        )
        self.job_duration = Histogram(
            "sids_job_duration_seconds", "Run time of completed jobs.",
            ["model", "endpoint"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.jobs_waiting = Gauge(
            "sids_jobs_waiting", "Messages in the jobs queue (approximate).", registry=registry
        )

    def watch_trainings(self, running: Callable[[], int], waiting: Callable[[], int]) -> None:
        """Read the training gauges from the slots at scrape time."""
        self.trainings_in_progress.set_function(running)
        self.trainings_queued.set_function(waiting)

    def render(self) -> bytes:
        return generate_latest(self.registry)
