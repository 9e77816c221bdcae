"""FastAPI dependencies models use to reach the shared state of the app."""

from typing import Annotated

from fastapi import Depends, Request, Response
from pydantic import BaseModel

from common.datasets import DatasetManager, IndicatorStore
from common.jobs import JobService
from common.settings import Settings
from common.tasks import Task
from common.training import Trainer

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


SettingsDep = Annotated[Settings, Depends(get_settings_of_app)]
DatasetManagerDep = Annotated[DatasetManager, Depends(get_dataset_manager)]
StoreDep = Annotated[IndicatorStore, Depends(get_store)]
TrainerDep = Annotated[Trainer, Depends(get_trainer)]
JobServiceDep = Annotated[JobService, Depends(get_job_service)]


async def run_task(
    trainer: Trainer, task: Task, request: BaseModel, store: IndicatorStore
) -> Response:
    """Answer a training route: cached or computed JSON, with `X-Cache: hit` or `miss`."""
    payload, hit = await trainer.run(task, request, store)
    return Response(
        payload, media_type="application/json", headers={CACHE_HEADER: "hit" if hit else "miss"}
    )
