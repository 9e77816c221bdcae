"""A worker that finds the queue empty helps a unit another worker is running: it trains the
step the owner reaches last, the owner finds it cached, and the unit's file is the same."""

import json
from pathlib import Path

from common.core.settings import Settings
from common.serving.batch import BatchService, BatchStore, Output
from common.serving.runtime import Runtime
from common.serving.storage import MemoryBlobStore, MemoryQueue, Storage
from common.serving.tasks import cache_key
from models.twolvlImp.precomputed import BATCH, BatchRequest
from models.twolvlImp.schemas import PredictRequest

TARGETS = [
    "demo_wdi-access_to_electricity_percent_of_population",
    "demo_wdi-central_government_debt_percent_of_gdp",
]
REQUEST = BatchRequest(
    datasets=["demo_wdi"], first_year=2010, last_year=2012, targets=TARGETS, estimators=5,
    model_number=3,
)  # fmt: skip


def _workers(settings: Settings, count: int) -> list[Runtime]:
    """The runtimes of `count` worker processes sharing one queue and blob store."""
    storage = Storage(MemoryBlobStore(), MemoryQueue(), kind="memory")
    runtimes = [Runtime.create(settings, storage=storage) for _ in range(count)]
    for runtime in runtimes:
        assert runtime.datasets.load() is not None
    return runtimes


def _submit(runtime: Runtime, folder: Path) -> tuple[BatchService, str]:
    service = BatchService(runtime.settings, runtime.storage)
    output = Output(kind="folder", location=str(folder))
    record = service.submit(BATCH, REQUEST, runtime.datasets.require_store(), output)
    return service, record.id


def _trained(runtime: Runtime, batch_id: str, unit: int) -> int:
    state = runtime.storage.blobs.get(f"batches/{batch_id}/units/{unit:06d}.done")
    assert state is not None
    return int(json.loads(state)["trained"])


def test_an_idle_worker_trains_the_last_step_of_a_running_unit(
    demo_settings: Settings, tmp_path: Path
) -> None:
    owner, helper = _workers(demo_settings, 2)
    service, batch_id = _submit(owner, tmp_path / "helped")
    held = owner.storage.queue.receive(60)  # the owner is inside unit 0
    assert held is not None
    helping = helper.queue_worker()
    assert helping.run_once()  # unit 1, whole
    assert not helping.run_once()  # the queue is empty now
    batches = helping.runner.batches
    assert batches.help()  # 2012 of unit 0: the owner reaches it last
    assert BatchStore(owner.storage.blobs).claims(batch_id) == {(0, 2)}
    assert not batches.help()  # 2011 is the owner's next: left to it
    assert owner.job_runner().process(held.content, held.dequeue_count)
    assert _trained(owner, batch_id, 0) == 2  # 2010 and 2011; 2012 was cached
    view = service.get(batch_id)
    assert (view.progress.done, view.progress.failed) == (2, 0)
    assert view.cpu_seconds is not None and view.cpu_seconds > 0

    # The same batch worked by one worker alone: the same files.
    [alone] = _workers(demo_settings, 1)
    _submit(alone, tmp_path / "alone")
    worker = alone.queue_worker()
    while worker.run_once():
        pass
    for target in TARGETS:
        name = f"model3/demo_wdi/{target}.json"
        assert (tmp_path / "helped" / name).read_bytes() == (tmp_path / "alone" / name).read_bytes()


def test_a_step_claimed_by_a_helper_that_died_is_trained_by_its_owner(
    demo_settings: Settings, tmp_path: Path
) -> None:
    [owner] = _workers(demo_settings, 1)
    _, batch_id = _submit(owner, tmp_path)
    BatchStore(owner.storage.blobs).claim(batch_id, 0, 2)  # taken, never trained
    worker = owner.queue_worker()
    while worker.run_once():
        pass
    assert _trained(owner, batch_id, 0) == 3
    document = json.loads((tmp_path / f"model3/demo_wdi/{TARGETS[0]}.json").read_text())
    assert sorted(document["data"]) == ["2010", "2011", "2012"]


def test_a_worker_with_no_batch_behind_it_does_not_help(demo_settings: Settings) -> None:
    [worker] = _workers(demo_settings, 1)
    assert not worker.job_runner().batches.help()


def test_units_go_through_their_years_from_different_starts(
    demo_settings: Settings, tmp_path: Path
) -> None:
    """Unit 1 runs 2011, 2012, 2010: a helper of it trains 2010, the year its owner does last."""
    helper, owner = _workers(demo_settings, 2)
    _submit(helper, tmp_path)
    helping = helper.queue_worker()
    assert helping.run_once()  # unit 0, whole
    held = owner.storage.queue.receive(60)  # the owner is inside unit 1
    assert held is not None and json.loads(held.content)["unit"] == 1
    assert helping.runner.batches.help()
    store = owner.datasets.require_store()
    cached = []
    for _, step in BATCH.steps(REQUEST, BATCH.plan(store, REQUEST)[1]):
        assert isinstance(step, PredictRequest)
        if owner.cache.get(cache_key(store.version, BATCH.task, step)) is not None:
            cached.append(step.target_year)
    assert cached == [2010]
