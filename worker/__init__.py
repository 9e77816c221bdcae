"""The job worker: a queue-triggered Azure Function, and `python -m worker` as a plain process.

Both run `common.serving.jobs.JobRunner.process` on each delivery of a job message. Under the
Functions host the host receives, hides and deletes messages (and retries a raised delivery after
the visibility timeout of host.json); the plain process does the same itself (`QueueWorker`).
"""

import azure.functions as func

from common.serving.runtime import process_runtime


class RetryJob(Exception):
    """Raised so that the Functions host delivers the message again later."""


def main(msg: func.QueueMessage) -> None:
    """Entry point named by function.json: one delivery of one job message."""
    runtime = process_runtime()
    if runtime.datasets.store is None:
        runtime.datasets.load()
    done = runtime.job_runner().process(msg.get_body().decode(), msg.dequeue_count or 1)
    if not done:
        raise RetryJob(f"job message {msg.id} will be delivered again")
