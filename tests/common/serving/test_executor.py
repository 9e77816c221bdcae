"""Training slots and the task executor: limits, single flight, slots given back."""

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import BaseModel

from common.core.errors import Overloaded
from common.core.metrics import Metrics
from common.core.settings import Settings
from common.data.datasets import parse_dataset, read_folder
from common.serving.cache import ResultCache
from common.serving.executor import TaskExecutor, TrainingSlots
from common.serving.tasks import Task


class Numbers(BaseModel):
    value: int


@dataclass
class GatedModel:
    """A model whose training waits for a gate, so concurrency can be observed."""

    gate: threading.Event = field(default_factory=threading.Event)
    calls: int = 0

    def run(self, store, request: Numbers, settings) -> Numbers:
        self.calls += 1
        self.gate.wait(10)
        return Numbers(value=request.value * 2)

    def task(self) -> Task:
        return Task("gated", "run", Numbers, lambda store, request: None, self.run)


@pytest.fixture
def store(demo_dataset_dir: Path):
    return parse_dataset(read_folder(demo_dataset_dir))


def _executor(settings: Settings, running: int, waiting: int) -> TaskExecutor:
    slots = TrainingSlots(running, waiting)
    metrics = Metrics()
    return TaskExecutor(settings, ResultCache(None, 16, metrics), slots, metrics)


def test_slots_admit_up_to_running_plus_waiting() -> None:
    slots = TrainingSlots(max_running=1, max_waiting=1)
    first, second = slots.admit(), slots.admit()
    with pytest.raises(Overloaded):
        slots.admit()
    first.run(lambda: None)
    second.run(lambda: None)
    assert slots.waiting == 0 and slots.running == 0
    slots.admit().run(lambda: None)  # admitted again: nothing leaked


def test_a_failing_training_gives_its_slot_back() -> None:
    slots = TrainingSlots(max_running=1, max_waiting=0)
    with pytest.raises(ZeroDivisionError):
        slots.admit().run(lambda: 1 / 0)
    assert slots.running == 0 and slots.waiting == 0


def test_identical_requests_train_once(demo_settings: Settings, store) -> None:
    model = GatedModel()
    executor = _executor(demo_settings, running=1, waiting=0)

    async def both() -> list[tuple[bytes, bool]]:
        calls = [executor.run(model.task(), Numbers(value=4), store) for _ in range(2)]
        pending = asyncio.gather(*calls)
        await asyncio.sleep(0.2)
        model.gate.set()
        return await pending

    results = asyncio.run(both())
    assert model.calls == 1
    assert results[0] == results[1] == (b'{"value":8}', False)


def test_a_different_request_beyond_the_limits_is_refused(demo_settings: Settings, store) -> None:
    model = GatedModel()
    executor = _executor(demo_settings, running=1, waiting=0)

    async def two_different() -> None:
        first = asyncio.ensure_future(executor.run(model.task(), Numbers(value=1), store))
        await asyncio.sleep(0.1)
        try:
            with pytest.raises(Overloaded) as refused:
                await executor.run(model.task(), Numbers(value=2), store)
            assert refused.value.retryable
            assert refused.value.retry_after_seconds == demo_settings.retry_after_seconds
        finally:
            model.gate.set()
            await first

    asyncio.run(two_different())
    assert executor.slots.running == 0 and executor.slots.waiting == 0


def test_the_executor_leaves_checking_to_the_route(demo_settings: Settings, store) -> None:
    """A sync request is checked once, by its route, before it queues for a slot."""
    checks: list[Numbers] = []
    model = GatedModel()
    model.gate.set()
    task = Task("checked", "run", Numbers, lambda store, request: checks.append(request), model.run)
    executor = _executor(demo_settings, running=1, waiting=0)
    payload, hit = asyncio.run(executor.run(task, Numbers(value=3), store))
    assert Numbers.model_validate_json(payload).value == 6 and not hit
    assert checks == [] and model.calls == 1
