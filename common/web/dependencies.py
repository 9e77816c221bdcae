"""FastAPI dependencies: how routes reach the runtime of the app (settings, dataset, executor,
jobs, models) and how a task's result becomes a response."""

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from starlette.types import Receive, Scope

from common.core.errors import ErrorBody
from common.core.settings import Settings
from common.data.datasets import DatasetManager, IndicatorStore
from common.serving.executor import Caller, TaskExecutor
from common.serving.jobs import JobService
from common.serving.registry import ModelSpec
from common.serving.runtime import Runtime
from common.serving.tasks import Task

CACHE_HEADER = "X-Cache"

# What every heavy route declares in OpenAPI, besides its own answers.
HEAVY_ROUTE_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorBody,
        "description": "This client already runs MAX_TRAININGS_PER_CLIENT heavy requests "
        "(Retry-After)",
    },
    503: {"model": ErrorBody, "description": "Every slot is busy (Retry-After), or no data"},
    504: {
        "model": ErrorBody,
        "description": "Took longer than SYNC_TIMEOUT_SECONDS (code training_timeout)",
    },
}


def get_runtime(request: Request) -> Runtime:
    """The runtime the app was created with: the one thing on `app.state` (see `api_app.app`)."""
    return request.app.state.runtime


def get_settings_of_app(request: Request) -> Settings:
    """The settings the app was created with."""
    return get_runtime(request).settings


def get_dataset_manager(request: Request) -> DatasetManager:
    return get_runtime(request).datasets


def get_store(request: Request) -> IndicatorStore:
    """The loaded dataset, or a 503 that says why there is none."""
    return get_dataset_manager(request).require_store()


def get_executor(request: Request) -> TaskExecutor:
    return get_runtime(request).executor


def get_job_service(request: Request) -> JobService:
    return get_runtime(request).jobs


def get_models(request: Request) -> list[ModelSpec]:
    return get_runtime(request).models


def client_address(scope: Scope, trusted_proxies: int) -> str | None:
    """The client's address: the connection's, or with `trusted_proxies` proxies in front the
    X-Forwarded-For entry the outermost of them added (entries left of it are the client's own
    claims, which anyone can forge). None when unknown (the Functions host gives none)."""
    client = scope.get("client")
    address = client[0] if client else None
    if trusted_proxies <= 0:
        return address
    forwarded = b",".join(value for name, value in scope["headers"] if name == b"x-forwarded-for")
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    return _without_port(hops[-trusted_proxies]) if len(hops) >= trusted_proxies else address


def _without_port(hop: str) -> str:
    """`203.0.113.5:53412` -> `203.0.113.5`, `[2001:db8::1]:443` -> `2001:db8::1` (the Functions
    front end adds the client's port, which differs per connection and would defeat the
    per-client limit); a bare IPv6 address is kept whole."""
    if hop.startswith("["):
        return hop[1 : hop.find("]")] if "]" in hop else hop
    host, colon, port = hop.rpartition(":")
    return host if colon and ":" not in host and port.isdigit() else hop


async def _disconnected(receive: Receive) -> None:
    """Return once the client has gone (the body is read: the next message is a disconnect)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def get_caller(request: Request) -> Caller:
    """Who waits for a heavy request, for per-client limits and cancelling abandoned work."""
    trusted = get_settings_of_app(request).trusted_proxies
    return Caller(
        address=client_address(request.scope, trusted),
        disconnected=lambda: _disconnected(request.receive),
    )


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings_of_app)]
DatasetManagerDep = Annotated[DatasetManager, Depends(get_dataset_manager)]
StoreDep = Annotated[IndicatorStore, Depends(get_store)]
ExecutorDep = Annotated[TaskExecutor, Depends(get_executor)]
JobServiceDep = Annotated[JobService, Depends(get_job_service)]
ModelsDep = Annotated[list[ModelSpec], Depends(get_models)]
CallerDep = Annotated[Caller, Depends(get_caller)]


async def run_task(
    executor: TaskExecutor, task: Task, request: BaseModel, store: IndicatorStore, caller: Caller
) -> Response:
    """Answer a training route: cached or computed JSON, with `X-Cache: hit` or `miss`."""
    payload, hit = await executor.run(task, request, store, caller)
    return Response(
        payload, media_type="application/json", headers={CACHE_HEADER: "hit" if hit else "miss"}
    )
