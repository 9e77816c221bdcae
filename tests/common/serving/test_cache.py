"""The result cache: an LRU in front of the blob store; a lookup is counted once, here."""

from common.core.metrics import Metrics
from common.serving.cache import ResultCache
from common.serving.storage import MemoryBlobStore


def _lookups(metrics: Metrics) -> dict[str, float]:
    text = metrics.render().decode()
    counts = {}
    for result in ("hit", "miss"):
        line = next(
            (line for line in text.splitlines() if f'lookups_total{{result="{result}"}}' in line),
            None,
        )
        counts[result] = float(line.split()[-1]) if line else 0.0
    return counts


def test_a_lookup_counts_a_hit_or_a_miss_and_get_counts_nothing() -> None:
    metrics = Metrics()
    cache = ResultCache(MemoryBlobStore(), max_entries=2, metrics=metrics)
    assert cache.lookup("k") is None
    cache.put("k", b"{}")
    assert cache.lookup("k") == b"{}"
    assert cache.get("k") == b"{}"
    assert _lookups(metrics) == {"hit": 1.0, "miss": 1.0}


def test_results_evicted_from_memory_come_back_from_the_blob_store() -> None:
    cache = ResultCache(MemoryBlobStore(), max_entries=1)
    cache.put("a", b"1")
    cache.put("b", b"2")
    assert cache.lookup("a") == b"1"
