"""FastAPI dependencies models use to reach the shared state of the app."""

from typing import Annotated

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from starlette.types import Receive, Scope

from common.datasets import DatasetManager, IndicatorStore
from common.jobs import JobService
from common.settings import Settings
from common.tasks import Task
from common.training import Caller, Trainer

CACHE_HEADER = "X-Cache"


def get_settings_of_app(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_dataset_manager(request: Request) -> DatasetManager:
    """The dataset manager of the app (kept on `app.state`, see `api_app.app`)."""
    return request.app.state.datasets


def get_store(request: Request) -> IndicatorStore:
    """The loaded dataset, or a 503 that says why there is none."""
    return get_dataset_manager(request).require_store()


def get_trainer(request: Request) -> Trainer:
    return request.app.state.trainer


def get_job_service(request: Request) -> JobService:
    return request.app.state.jobs


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
    trusted = request.app.state.settings.trusted_proxies
    return Caller(
        address=client_address(request.scope, trusted),
        disconnected=lambda: _disconnected(request.receive),
    )


SettingsDep = Annotated[Settings, Depends(get_settings_of_app)]
DatasetManagerDep = Annotated[DatasetManager, Depends(get_dataset_manager)]
StoreDep = Annotated[IndicatorStore, Depends(get_store)]
TrainerDep = Annotated[Trainer, Depends(get_trainer)]
JobServiceDep = Annotated[JobService, Depends(get_job_service)]
CallerDep = Annotated[Caller, Depends(get_caller)]


async def run_task(
    trainer: Trainer, task: Task, request: BaseModel, store: IndicatorStore, caller: Caller
) -> Response:
    """Answer a training route: cached or computed JSON, with `X-Cache: hit` or `miss`."""
    payload, hit = await trainer.run(task, request, store, caller)
    return Response(
        payload, media_type="application/json", headers={CACHE_HEADER: "hit" if hit else "miss"}
    )
