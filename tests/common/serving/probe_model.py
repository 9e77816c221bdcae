"""A test-only model whose training can crash its process, sleep or fail on request.

A module of its own (not a test file): a worker process unpickles the task by reference to it.
"""

import os
import time
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from common.core.errors import InvalidParameter
from common.core.settings import Settings
from common.data.datasets import IndicatorStore
from common.serving.registry import ModelSpec
from common.serving.tasks import Task
from common.web.dependencies import CallerDep, ExecutorDep, StoreDep, run_task


class ProbeRequest(BaseModel):
    value: int = 1
    action: Literal["double", "crash", "sleep", "fail", "oom"] = "double"
    seconds: float = 0


class ProbeResponse(BaseModel):
    doubled: int
    pid: int  # the process that trained


def _check(store: IndicatorStore, request: ProbeRequest) -> None:
    """Nothing to check against the data."""


def _run(store: IndicatorStore, request: ProbeRequest, settings: Settings) -> ProbeResponse:
    if request.action == "crash":
        os._exit(3)  # as a segfault or the OOM killer would: no exception, no reply
    if request.action == "oom":
        raise MemoryError("probe ran out of memory")
    if request.action == "fail":
        raise InvalidParameter("value is not usable", field="value", allowed=[1, 2])
    time.sleep(request.seconds)
    return ProbeResponse(doubled=2 * request.value, pid=os.getpid())


PROBE = Task("probe", "run", ProbeRequest, _check, _run)

router = APIRouter()


@router.post("/run")
async def run(
    request: ProbeRequest, store: StoreDep, executor: ExecutorDep, caller: CallerDep
) -> Response:
    return await run_task(executor, PROBE, request, store, caller)


PROBE_MODEL = ModelSpec("probe", "Probe", router, "/run", tasks=(PROBE,))
