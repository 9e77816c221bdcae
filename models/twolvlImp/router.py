"""HTTP routes of the two-level imputation model (paths and shapes as the front end uses them)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from common.web.dependencies import (
    HEAVY_ROUTE_RESPONSES,
    CallerDep,
    ExecutorDep,
    SettingsDep,
    StoreDep,
    run_task,
)
from models.twolvlImp import options
from models.twolvlImp.imputation import estimate_seconds
from models.twolvlImp.schemas import (
    DimensionOption,
    PredictorsRequest,
    PredictRequest,
    PredictResponse,
    Scheme,
)
from models.twolvlImp.tasks import PREDICT

router = APIRouter(tags=["Two Level Imputation"])

YearQuery = Annotated[int, Query(description="The year whose gaps are filled.")]
DatasetQuery = Annotated[str, Query(description="A dataset code from /twolvlImp/datasets.")]


@router.get("/target_sample_size")
def get_target_sample_size(store: StoreDep) -> int:
    """How many countries must have a value for an indicator to be a target."""
    return options.target_sample_size(store)


@router.get("/predictor_sample_size")
def get_predictor_sample_size(store: StoreDep) -> int:
    """How many countries must have a value for an indicator to be a predictor."""
    return options.predictor_sample_size(store)


@router.get("/target_years")
def get_target_years(store: StoreDep) -> list[int]:
    """The years present in the dataset."""
    return list(store.years)


@router.get("/datasets")
def get_datasets(store: StoreDep, target_year: YearQuery) -> dict[str, str]:
    """Datasets with at least one target in the year: code -> name."""
    options.check_year(store, target_year)
    return options.dataset_options(store, target_year)


@router.get("/targets")
def get_targets(store: StoreDep, target_year: YearQuery, dataset: DatasetQuery) -> dict[str, str]:
    """Indicators of the dataset with SIDS gaps to fill in the year: code -> name."""
    options.check_dataset(store, target_year, dataset)
    return options.target_options(store, target_year, dataset)


@router.get("/dimensions")
def get_dimensions(
    store: StoreDep,
    target: Annotated[str, Query(description="A target code or indicator name.")],
    target_year: YearQuery,
    dataset: DatasetQuery,
) -> list[DimensionOption]:
    """The dimensions (variants) of a target indicator that can be imputed in the year."""
    options.check_dimension_target(store, target_year, dataset, target)
    return [
        DimensionOption(**option)
        for option in options.dimension_options(store, target_year, dataset, target)
    ]


@router.post("/predictors")
def get_predictors(store: StoreDep, request: PredictorsRequest) -> dict[str, str] | dict[int, int]:
    """MANUAL: the predictors to pick from (code -> name); AFS and PCA: the allowed counts."""
    options.check_target(store, request.target_year, request.dataset, request.target)
    if request.scheme == Scheme.MANUAL:
        return options.predictor_options(store, request.target_year, request.target)
    return options.number_options(store, request.target_year, request.target)


@router.post("/estimate")
def estimate(store: StoreDep, settings: SettingsDep, request: PredictRequest) -> float:
    """Roughly how many seconds the predict request would take (a bare number).

    More than half of the `SYNC_TIMEOUT_SECONDS` setting (220 s by default; the figure runs low
    on a loaded machine): submit the request as a job (`POST /jobs`) rather than calling
    `POST /twolvlImp/predict`.
    """
    PREDICT.validate(store, request, settings)
    return estimate_seconds(request)


@router.post("/predict", response_model=PredictResponse, responses=HEAVY_ROUTE_RESPONSES)
async def predict(
    store: StoreDep,
    settings: SettingsDep,
    executor: ExecutorDep,
    caller: CallerDep,
    request: PredictRequest,
) -> Response:
    """Train on all countries and estimate, with 90% intervals, the SIDS gaps of the target.

    The answer's top-level fields are what the platform's front end reads (`prediction`,
    `model_feature_names`, `model_feature_importance`, `feature_importance_pie`, `correlation`,
    `rmse`, `rmse_deviation`); `indicatorJson` holds the same numbers keyed by year, the shape of
    the platform's precomputed model files.

    Answers from the result cache when the same request was answered on the same data
    (`X-Cache: hit`); 503 with Retry-After when every training slot is taken, 429 when this
    client already runs MAX_TRAININGS_PER_CLIENT, 504 after the `SYNC_TIMEOUT_SECONDS` setting
    (220 s by default). Long trainings (many trees with `model` `all`, the `IterativeImputer` or
    `method` `cross_section`: when `POST /twolvlImp/estimate` answers more than half that
    timeout) go as a job: `POST /jobs` with model `twolvlImp`, endpoint `predict` and this body
    as `request`, then poll `GET /jobs/{id}`.
    """
    PREDICT.validate(store, request, settings)
    return await run_task(executor, PREDICT, request, store, caller)
