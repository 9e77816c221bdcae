"""Cooperative cancellation of work running in a thread.

Python threads cannot be stopped from outside, so long work calls `checkpoint()` between its
stages (folds, candidates, k values): once the work's `CancelToken` is cancelled (every client
that waited for it has gone), the next checkpoint raises `Cancelled` and the thread, and its
training slot, are free again. Outside a `cancellable` block a checkpoint does nothing.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Cancelled(Exception):
    """The work was cancelled: nobody waits for its result any more."""


class CancelToken:
    """A flag the waiting side sets and the working thread reads at its checkpoints."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


_current = threading.local()


@contextmanager
def cancellable(token: CancelToken | None) -> Iterator[None]:
    """Make `token` the one this thread's checkpoints read while the block runs."""
    previous = getattr(_current, "token", None)
    _current.token = token
    try:
        yield
    finally:
        _current.token = previous


def checkpoint() -> None:
    """Raise `Cancelled` if the work running in this thread has been cancelled."""
    token = getattr(_current, "token", None)
    if token is not None and token.cancelled:
        raise Cancelled("cancelled: no client waits for this result")
