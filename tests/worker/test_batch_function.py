"""The queue-triggered Function runs a batch unit from an `azure.functions.QueueMessage`, as the
Functions host delivers it (Azurite behind the runtime of the process)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.functions.queue import QueueMessage  # what the host's binding hands the function

import worker
from common.core.settings import Settings, get_settings
from common.serving.batch import BatchService, BatchStatus, Output
from common.serving.runtime import Runtime, process_runtime
from models.twolvlImp.precomputed import BATCH, BatchRequest
from tests.fixtures.azurite import AzuriteServer, unique_storage_names

TARGET = "demo_fao-cereal_yield_kg_per_hectare"


@pytest.fixture
def function_runtime(
    azurite: AzuriteServer, demo_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    """The Function's process runtime, from the environment as the host sets it."""
    names = unique_storage_names()
    environment = {
        "DATASET_PATH": str(demo_settings.dataset_path),
        "DEMO_DATA_FALLBACK": "false",
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "JOBS_QUEUE_NAME": names["jobs_queue_name"],
        "RESULTS_CONTAINER": names["results_container"],
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    process_runtime.cache_clear()
    yield process_runtime()
    get_settings.cache_clear()
    process_runtime.cache_clear()


def test_the_function_runs_a_unit_and_a_late_delivery_gives_up(
    function_runtime: Runtime, tmp_path: Path
) -> None:
    store = function_runtime.datasets.load()
    assert store is not None
    service = BatchService(function_runtime.settings, function_runtime.storage)
    request = BatchRequest(
        datasets=["demo_fao"], first_year=2010, last_year=2011, estimators=5, model_number=4,
        targets=[TARGET, "demo_fao-forest_area_percent_of_land_area"],
    )  # fmt: skip
    record = service.submit(BATCH, request, store, Output(kind="folder", location=str(tmp_path)))
    first = function_runtime.storage.queue.receive(60)
    second = function_runtime.storage.queue.receive(60)
    assert first is not None and second is not None
    worker.main(QueueMessage(id=first.id, body=first.content.encode(), dequeue_count=1))
    late = function_runtime.settings.job_max_attempts + 1  # the host redelivered it too often
    worker.main(QueueMessage(id=second.id, body=second.content.encode(), dequeue_count=late))
    view = service.get(record.id)
    assert view.status == BatchStatus.completed
    assert (view.progress.done, view.progress.failed) == (1, 1)
    assert "gave up" in view.failures[0].error.detail
    assert (tmp_path / f"model4/demo_fao/{TARGET}.json").is_file()
