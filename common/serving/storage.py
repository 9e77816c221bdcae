"""Blob and queue storage for jobs and cached results: Azure Storage, or in-process memory.

Both backends follow the Azure Storage queue protocol: a received message becomes invisible for a
visibility timeout and reappears unless it is deleted with its pop receipt; each delivery counts
in `dequeue_count`. The memory backend is the embedded default (no storage configured) and is held
to the same behavioural tests as Azure Storage (run against Azurite).
"""

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, cast

from common.core.errors import StorageUnavailable
from common.core.settings import Settings

if TYPE_CHECKING:  # the SDK is imported on first use, not at start-up
    from azure.storage.blob import BlobServiceClient, ContainerClient
    from azure.storage.queue import QueueClient

logger = logging.getLogger(__name__)

# Fail fast when storage is down: a submission should get a 503 in seconds, not hang in retries.
AZURE_CLIENT_OPTIONS: dict[str, Any] = {
    "retry_total": 1,
    "initial_backoff": 0.5,  # the SDK's defaults: 15 s, then 3^n s, with up to 3 s of jitter
    "increment_base": 2,
    "random_jitter_range": 0.2,
    "connection_timeout": 3,
    "read_timeout": 20,
}
STORAGE_RETRY_AFTER_SECONDS = 10


@dataclass(frozen=True)
class QueueMessage:
    """One delivery of a queue message."""

    id: str
    pop_receipt: str
    content: str
    dequeue_count: int


class BlobStore(Protocol):
    def get(self, name: str) -> bytes | None: ...
    def put(self, name: str, data: bytes) -> None: ...
    def names(self, prefix: str) -> list[str]: ...
    def check(self) -> None: ...


class JobQueue(Protocol):
    def send(self, content: str) -> None: ...
    def receive(self, visibility_timeout: float) -> QueueMessage | None: ...
    def extend(self, message: QueueMessage, visibility_timeout: float) -> QueueMessage: ...
    def delete(self, message: QueueMessage) -> None: ...
    def length(self) -> int: ...
    def check(self) -> None: ...


@dataclass
class Storage:
    """The blob store and job queue of a process."""

    blobs: BlobStore
    queue: JobQueue
    kind: str


def open_storage(settings: Settings) -> Storage:
    """Azure Storage when a connection is configured, the in-process memory backend otherwise."""
    if settings.azure_storage_connection_string or settings.azure_storage_blob_url:
        return _open_azure(settings)
    return Storage(MemoryBlobStore(), MemoryQueue(), kind="memory")


# ---- memory backend --------------------------------------------------------------------------


class MemoryBlobStore:
    """A dict of blobs behind a lock."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> bytes | None:
        with self._lock:
            return self._blobs.get(name)

    def put(self, name: str, data: bytes) -> None:
        with self._lock:
            self._blobs[name] = data

    def names(self, prefix: str) -> list[str]:
        """The names of the blobs starting with `prefix`, sorted (as Azure lists them)."""
        with self._lock:
            return sorted(name for name in self._blobs if name.startswith(prefix))

    def check(self) -> None:
        return None


@dataclass
class _StoredMessage:
    id: str
    content: str
    visible_at: float = 0.0
    dequeue_count: int = 0
    pop_receipt: str = field(default_factory=lambda: uuid.uuid4().hex)


class MemoryQueue:
    """A queue with Azure's visibility-timeout semantics, inside one process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._messages: list[_StoredMessage] = []
        self._lock = threading.Lock()
        self._clock = clock

    def send(self, content: str) -> None:
        with self._lock:
            self._messages.append(_StoredMessage(id=uuid.uuid4().hex, content=content))

    def receive(self, visibility_timeout: float) -> QueueMessage | None:
        with self._lock:
            now = self._clock()
            for stored in self._messages:
                if stored.visible_at <= now:
                    stored.visible_at = now + visibility_timeout
                    stored.dequeue_count += 1
                    stored.pop_receipt = uuid.uuid4().hex
                    return self._delivery(stored)
        return None

    def extend(self, message: QueueMessage, visibility_timeout: float) -> QueueMessage:
        with self._lock:
            stored = self._find(message)
            stored.visible_at = self._clock() + visibility_timeout
            stored.pop_receipt = uuid.uuid4().hex
            return self._delivery(stored)

    def delete(self, message: QueueMessage) -> None:
        with self._lock:
            self._messages.remove(self._find(message))

    def length(self) -> int:
        with self._lock:
            return len(self._messages)

    def check(self) -> None:
        return None

    def _find(self, message: QueueMessage) -> _StoredMessage:
        for stored in self._messages:
            if stored.id == message.id and stored.pop_receipt == message.pop_receipt:
                return stored
        raise LookupError(f"message {message.id} is no longer held with that pop receipt")

    @staticmethod
    def _delivery(stored: _StoredMessage) -> QueueMessage:
        return QueueMessage(stored.id, stored.pop_receipt, stored.content, stored.dequeue_count)


# ---- Azure backend ---------------------------------------------------------------------------


def open_azure_container(settings: Settings, container: str) -> "AzureBlobStore":
    """Another container of the configured account (batch output beside the results)."""
    return AzureBlobStore(_blob_service(settings).get_container_client(container))


def _blob_service(settings: Settings) -> "BlobServiceClient":
    from azure.storage.blob import BlobServiceClient

    if settings.azure_storage_connection_string:
        return BlobServiceClient.from_connection_string(
            settings.azure_storage_connection_string, **AZURE_CLIENT_OPTIONS
        )
    from azure.identity import DefaultAzureCredential

    # Managed or workload identity: no account key anywhere. Unset URLs stay unchecked here, as
    # before: the SDK rejects a None account URL.
    return BlobServiceClient(
        cast(str, settings.azure_storage_blob_url),
        credential=DefaultAzureCredential(),
        **AZURE_CLIENT_OPTIONS,
    )


def _open_azure(settings: Settings) -> Storage:
    from azure.storage.queue import (
        QueueServiceClient,
        TextBase64DecodePolicy,
        TextBase64EncodePolicy,
    )

    blob_service = _blob_service(settings)
    if settings.azure_storage_connection_string:
        queue_service = QueueServiceClient.from_connection_string(
            settings.azure_storage_connection_string, **AZURE_CLIENT_OPTIONS
        )
    else:
        from azure.identity import DefaultAzureCredential

        queue_service = QueueServiceClient(
            cast(str, settings.azure_storage_queue_url),
            credential=DefaultAzureCredential(),
            **AZURE_CLIENT_OPTIONS,
        )
    # The Functions queue trigger expects base64 message bodies.
    queue = queue_service.get_queue_client(
        settings.jobs_queue_name,
        message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=TextBase64DecodePolicy(),
    )
    container = blob_service.get_container_client(settings.results_container)
    return Storage(AzureBlobStore(container), AzureQueue(queue), kind="azure")


def _azure_call[T](action: str, call: Callable[[], T]) -> T:
    from azure.core.exceptions import AzureError

    try:
        return call()
    except AzureError as error:
        logger.warning("storage %s failed: %s", action, error)
        raise StorageUnavailable(
            f"job storage unavailable ({action} failed: {type(error).__name__}); try again later",
            retry_after_seconds=STORAGE_RETRY_AFTER_SECONDS,
        ) from error


class AzureBlobStore:
    """Blobs in one Azure Storage container, created on first use."""

    def __init__(self, container: "ContainerClient") -> None:
        self._container = container
        self._created = False

    def get(self, name: str) -> bytes | None:
        from azure.core.exceptions import ResourceNotFoundError

        def download() -> bytes | None:
            try:
                return self._container.download_blob(name).readall()
            except ResourceNotFoundError:
                return None

        return _azure_call("blob read", download)

    def put(self, name: str, data: bytes) -> None:
        self._ensure_container()
        _azure_call("blob write", lambda: self._container.upload_blob(name, data, overwrite=True))

    def names(self, prefix: str) -> list[str]:
        """The names of the blobs starting with `prefix` (none while the container is missing)."""
        from azure.core.exceptions import ResourceNotFoundError

        def listing() -> list[str]:
            try:
                return list(self._container.list_blob_names(name_starts_with=prefix))
            except ResourceNotFoundError:
                return []

        return _azure_call("blob list", listing)

    def check(self) -> None:
        self._ensure_container()

    def _ensure_container(self) -> None:
        if not self._created:
            _azure_call("container check", self._create_if_missing)
            self._created = True

    def _create_if_missing(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        with contextlib.suppress(ResourceExistsError):
            self._container.create_container()


class AzureQueue:
    """An Azure Storage queue, created on first use."""

    def __init__(self, queue: "QueueClient") -> None:
        self._queue = queue
        self._created = False

    def send(self, content: str) -> None:
        self._ensure_queue()
        _azure_call("queue send", lambda: self._queue.send_message(content))

    def receive(self, visibility_timeout: float) -> QueueMessage | None:
        self._ensure_queue()
        timeout = max(1, round(visibility_timeout))
        message = _azure_call(
            "queue receive", lambda: self._queue.receive_message(visibility_timeout=timeout)
        )
        if message is None:
            return None
        # The SDK types these optional; a received message always has them.
        receipt, count = cast(str, message.pop_receipt), cast(int, message.dequeue_count)
        return QueueMessage(message.id, receipt, message.content, count)

    def extend(self, message: QueueMessage, visibility_timeout: float) -> QueueMessage:
        updated = _azure_call(
            "queue extend",
            lambda: self._queue.update_message(
                message.id,
                message.pop_receipt,
                visibility_timeout=max(1, round(visibility_timeout)),
            ),
        )
        return replace(message, pop_receipt=cast(str, updated.pop_receipt))

    def delete(self, message: QueueMessage) -> None:
        _azure_call(
            "queue delete", lambda: self._queue.delete_message(message.id, message.pop_receipt)
        )

    def length(self) -> int:
        self._ensure_queue()
        properties = _azure_call("queue length", self._queue.get_queue_properties)
        return int(properties.approximate_message_count or 0)

    def check(self) -> None:
        self.length()

    def _ensure_queue(self) -> None:
        if not self._created:
            _azure_call("queue check", self._create_if_missing)
            self._created = True

    def _create_if_missing(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        with contextlib.suppress(ResourceExistsError):
            self._queue.create_queue()
