"""FastAPI dependencies models use to reach the shared state of the app."""

from typing import Annotated

from fastapi import Depends, Request

from common.datasets import DatasetManager, IndicatorStore
from common.settings import Settings


def get_settings_of_app(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_dataset_manager(request: Request) -> DatasetManager:
    """The dataset manager of the app (kept on `app.state`, see `api_app.app`)."""
    return request.app.state.datasets


def get_store(request: Request) -> IndicatorStore:
    """The loaded dataset, or a 503 that says why there is none."""
    return get_dataset_manager(request).require_store()


SettingsDep = Annotated[Settings, Depends(get_settings_of_app)]
DatasetManagerDep = Annotated[DatasetManager, Depends(get_dataset_manager)]
StoreDep = Annotated[IndicatorStore, Depends(get_store)]
