"""The result cache: an in-process LRU in front of the shared blob store, so replicas share hits."""

import threading
from collections import OrderedDict

from common.core.errors import StorageUnavailable
from common.core.metrics import Metrics
from common.serving.storage import BlobStore

RESULTS_PREFIX = "results/"


class ResultCache:
    """Responses by cache key (see `common.serving.tasks.cache_key`), as JSON bytes."""

    def __init__(
        self, blobs: BlobStore | None, max_entries: int, metrics: Metrics | None = None
    ) -> None:
        self._blobs = blobs
        self._max_entries = max_entries
        self._metrics = metrics
        self._recent: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]
        value = self._blobs.get(RESULTS_PREFIX + key) if self._blobs else None
        if value is not None:
            self._remember(key, value)
        return value

    def lookup(self, key: str, *, outage_is_miss: bool = False) -> bytes | None:
        """A result for a request, counted as a hit or a miss (`get` alone, for a job's state,
        is not a lookup). With `outage_is_miss`, storage trouble is a miss instead of an error."""
        try:
            value = self.get(key)
        except StorageUnavailable:
            if not outage_is_miss:
                raise
            value = None
        if self._metrics is not None:
            self._metrics.cache.labels(result="hit" if value is not None else "miss").inc()
        return value

    def put(self, key: str, value: bytes) -> None:
        """Keep the result here first, then share it: with storage down (`StorageUnavailable`)
        this process still answers the same request from memory."""
        self._remember(key, value)
        if self._blobs:
            self._blobs.put(RESULTS_PREFIX + key, value)

    def _remember(self, key: str, value: bytes) -> None:
        if self._max_entries == 0:
            return
        with self._lock:
            self._recent[key] = value
            self._recent.move_to_end(key)
            while len(self._recent) > self._max_entries:
                self._recent.popitem(last=False)
