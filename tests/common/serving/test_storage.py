"""The storage backends: the in-process memory queue and blob store, and unreachable Azure
Storage as a clear error (jobs over both backends: test_jobs.py)."""

import pytest

from common.core.errors import StorageUnavailable
from common.core.settings import Settings
from common.serving.storage import MemoryBlobStore, MemoryQueue, open_storage
from tests.fixtures.azurite import azurite_connection_string, free_port


def test_memory_queue_redelivers_after_the_visibility_timeout() -> None:
    now = [0.0]
    queue = MemoryQueue(clock=lambda: now[0])
    queue.send("m")
    first = queue.receive(30)
    assert first is not None and queue.receive(30) is None
    now[0] = 31
    second = queue.receive(30)
    assert second is not None and second.dequeue_count == 2
    with pytest.raises(LookupError):
        queue.delete(first)  # the first delivery's pop receipt is stale
    queue.delete(second)
    assert queue.length() == 0


def test_memory_blob_store_round_trip() -> None:
    blobs = MemoryBlobStore()
    assert blobs.get("a") is None
    blobs.put("a", b"1")
    assert blobs.get("a") == b"1"


@pytest.fixture
def unreachable_settings(demo_settings: Settings) -> Settings:
    nobody_listens = azurite_connection_string(free_port(), free_port())
    return demo_settings.model_copy(update={"azure_storage_connection_string": nobody_listens})


def test_unreachable_storage_is_a_clear_503(unreachable_settings: Settings) -> None:
    storage = open_storage(unreachable_settings)
    with pytest.raises(StorageUnavailable) as raised:
        storage.queue.send("x")
    assert raised.value.status_code == 503
    assert "job storage unavailable" in raised.value.detail
    # Facts for the web layer, which turns them into Retry-After (tests/api_app/test_errors.py).
    assert raised.value.retryable and raised.value.retry_after_seconds
