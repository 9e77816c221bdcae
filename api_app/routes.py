"""Cross-cutting routes: service info, datasets, model forms and health."""

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api_app.auth import ADMIN_RESPONSES, AdminDep, MetricsAccessDep
from api_app.params import ModelForm, describe_models
from common.core.errors import DatasetInvalid, ErrorBody, StorageUnavailable
from common.core.metrics import PROMETHEUS_CONTENT_TYPE
from common.core.settings import SERVICE_NAME, SERVICE_VERSION
from common.data.datasets import DEMO_SOURCE, ReloadStatus
from common.web.dependencies import (
    HEAVY_ROUTE_RESPONSES,
    CallerDep,
    DatasetManagerDep,
    ExecutorDep,
    ModelsDep,
    RuntimeDep,
    StoreDep,
)

router = APIRouter(tags=["Service"])


class ServiceInfo(BaseModel):
    """What this service is and which data it serves."""

    service: str
    version: str
    dataset_version: str | None
    models: list[str]


class DatasetInfo(BaseModel):
    """One dataset of the loaded data."""

    code: str
    name: str
    indicators: int


class DatasetsInfo(BaseModel):
    """The files under DATASET_PATH and the datasets loaded from them (no server paths)."""

    files: list[str]
    source: str = Field(description="'DATASET_PATH', or the built-in demo dataset.")
    dataset_version: str
    years: list[int]
    countries: int
    datasets: list[DatasetInfo]
    last_error: str | None = None


class ReloadResult(BaseModel):
    """What a dataset reload did."""

    status: ReloadStatus
    dataset_version: str


class Health(BaseModel):
    """A health probe's answer."""

    status: str
    dataset_version: str | None = None


@router.get("/")
def root(datasets: DatasetManagerDep, models: ModelsDep) -> ServiceInfo:
    """Service name, version and the version of the loaded dataset."""
    store = datasets.store
    return ServiceInfo(
        service=SERVICE_NAME,
        version=SERVICE_VERSION,
        dataset_version=store.version if store else None,
        models=[model.name for model in models],
    )


@router.get("/datasets")
def datasets_info(datasets: DatasetManagerDep, store: StoreDep) -> DatasetsInfo:
    """The files present under DATASET_PATH and the datasets loaded."""
    counts = store.indicator_meta["Dataset"].value_counts()
    return DatasetsInfo(
        files=datasets.files,
        source=DEMO_SOURCE if store.source == DEMO_SOURCE else "DATASET_PATH",
        dataset_version=store.version,
        years=list(store.years),
        countries=len(store.countries),
        datasets=[
            DatasetInfo(
                code=str(code),
                name=store.dataset_names.get(str(code), str(code)),
                indicators=int(count),
            )
            for code, count in sorted(counts.items())
        ],
        last_error=datasets.error,
    )


@router.post(
    "/datasets/reload",
    dependencies=[AdminDep],
    responses={422: {"model": ErrorBody}, **ADMIN_RESPONSES, **HEAVY_ROUTE_RESPONSES},
)
async def reload_datasets(
    datasets: DatasetManagerDep, executor: ExecutorDep, caller: CallerDep
) -> ReloadResult:
    """Read DATASET_PATH again and swap in the new data if it changed and is valid (admin).

    Needs an admin key (ADMIN_API_KEYS). A missing, truncated or malformed file answers 422
    `dataset_invalid` naming the file, line and reason, and the service keeps serving the
    previous version. Cached results of the old version are never served for the new one (the
    version is part of every cache key). Runs in a training slot, like a training.
    """
    status = await executor.run_work(datasets.reload, caller)
    if status == ReloadStatus.failed:
        raise DatasetInvalid(f"reload failed, previous data kept: {datasets.error}")
    return ReloadResult(status=status, dataset_version=datasets.require_store().version)


@router.get("/params", response_model_exclude_none=True)
def params(request: Request, models: ModelsDep) -> list[ModelForm]:
    """For every model, the form the front end builds: inputs, labels, values and conditions."""
    return describe_models(request.app.openapi(), models)


@router.get("/healthz")
async def healthz() -> Health:
    """The process is alive (no dependency is checked)."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"model": ErrorBody}})
async def readyz(runtime: RuntimeDep) -> Health:
    """200 once the dataset is loaded and configured storage answers; 503 with the reason."""
    store = runtime.datasets.require_store()
    storage = runtime.storage
    if storage.kind != "memory":
        await run_in_threadpool(storage.queue.check)
        await run_in_threadpool(storage.blobs.check)
    return Health(status="ready", dataset_version=store.version)


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[MetricsAccessDep],
    responses={200: {"content": {"text/plain": {}}}, **ADMIN_RESPONSES},
)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus metrics: requests, latency, trainings, cache, jobs (admin key, unless
    METRICS_PUBLIC)."""
    try:
        waiting = await run_in_threadpool(runtime.storage.queue.length)
        runtime.metrics.jobs_waiting.set(waiting)
    except StorageUnavailable:
        pass
    return Response(runtime.metrics.render(), media_type=PROMETHEUS_CONTENT_TYPE)
