"""`python -m worker`: take jobs off the queue until SIGTERM or SIGINT (AKS, KEDA, local use)."""

import logging
import signal
import threading

from common.core.logs import configure_logging
from common.serving.runtime import process_runtime

logger = logging.getLogger("worker")


def run() -> None:
    """Load the dataset, then work the jobs queue until asked to stop."""
    stop = threading.Event()
    for sign in (signal.SIGTERM, signal.SIGINT):
        # Set first: a stop asked for during start-up ends the worker cleanly once started.
        signal.signal(sign, lambda *_: stop.set())
    runtime = process_runtime()
    settings = runtime.settings
    configure_logging(settings.log_level, settings.log_json)
    if runtime.storage.kind == "memory":
        raise SystemExit(
            "the worker process needs shared storage: set AZURE_STORAGE_CONNECTION_STRING "
            "(or AZURE_STORAGE_BLOB_URL and AZURE_STORAGE_QUEUE_URL with a managed identity)"
        )
    if runtime.datasets.load() is None:
        raise SystemExit(f"dataset unavailable: {runtime.datasets.error}")
    logger.info("worker started on queue %s", settings.jobs_queue_name)
    runtime.queue_worker().run(stop)
    runtime.stop_background()  # the training processes, if any
    logger.info("worker stopped")


if __name__ == "__main__":
    run()
