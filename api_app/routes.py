"""Cross-cutting routes: service info, datasets, model forms and health."""

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api_app.params import ModelForm, describe_models
from common.dependencies import DatasetManagerDep, StoreDep
from common.errors import ErrorBody
from common.settings import SERVICE_NAME, SERVICE_VERSION

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
    """The files under DATASET_PATH and the datasets loaded from them."""

    dataset_path: str
    files: list[str]
    source: str
    dataset_version: str
    years: list[int]
    countries: int
    datasets: list[DatasetInfo]


class Health(BaseModel):
    """A health probe's answer."""

    status: str
    dataset_version: str | None = None


@router.get("/")
def root(request: Request, datasets: DatasetManagerDep) -> ServiceInfo:
    """Service name, version and the version of the loaded dataset."""
    store = datasets.store
    return ServiceInfo(
        service=SERVICE_NAME,
        version=SERVICE_VERSION,
        dataset_version=store.version if store else None,
        models=[model.name for model in request.app.state.models],
    )


@router.get("/datasets")
def datasets_info(request: Request, datasets: DatasetManagerDep, store: StoreDep) -> DatasetsInfo:
    """The files present under DATASET_PATH and the datasets loaded."""
    counts = store.indicator_meta["Dataset"].value_counts()
    return DatasetsInfo(
        dataset_path=str(request.app.state.settings.dataset_path),
        files=datasets.files,
        source=store.source,
        dataset_version=store.version,
        years=list(store.years),
        countries=len(store.countries),
        datasets=[
            DatasetInfo(code=code, name=store.dataset_names.get(code, code), indicators=int(count))
            for code, count in sorted(counts.items())
        ],
    )


@router.get("/params", response_model_exclude_none=True)
def params(request: Request) -> list[ModelForm]:
    """For every model, the form the front end builds: inputs, labels, values and conditions."""
    return describe_models(request.app.openapi(), request.app.state.models)


@router.get("/healthz")
async def healthz() -> Health:
    """The process is alive (no dependency is checked)."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"model": ErrorBody}})
async def readyz(datasets: DatasetManagerDep) -> Health:
    """200 once the dataset is loaded; 503 with the reason otherwise."""
    store = datasets.require_store()
    return Health(status="ready", dataset_version=store.version)
