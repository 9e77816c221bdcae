"""The model's tasks: its training endpoint (cached, limited, and runnable as an async job), and
the warm-up of the years' imputed predictor matrices (`WARM`, submitted on each dataset load by
`WARM_UP` when WARM_IMPUTERS lists imputers)."""

from common.core.settings import InvalidSetting, Settings
from common.data.datasets import IndicatorStore
from common.serving.registry import model_name
from common.serving.tasks import Limit, Task, Warmup
from models.twolvlImp.imputation import impute
from models.twolvlImp.options import check_predict_request, check_year
from models.twolvlImp.schemas import (
    Interpolator,
    PredictRequest,
    PredictResponse,
    WarmRequest,
    WarmResponse,
)
from models.twolvlImp.year_caches import imputed_year

MODEL_NAME = model_name(__name__)


def _predict(store: IndicatorStore, request: PredictRequest, settings: Settings) -> PredictResponse:
    return impute(store, request, n_jobs=settings.search_jobs)


PREDICT = Task(
    model=MODEL_NAME,
    endpoint="predict",
    request_model=PredictRequest,
    check=check_predict_request,
    run=_predict,
    limits=(Limit("estimators", "max_estimators"),),
    result_version=2,  # 2: the front end's top-level fields beside indicatorJson
)


def _check_warm_request(store: IndicatorStore, request: WarmRequest) -> None:
    check_year(store, request.target_year)


def _warm(store: IndicatorStore, request: WarmRequest, settings: Settings) -> WarmResponse:
    """The year's imputed matrix, read from the shared blob store or computed and stored there."""
    matrix = imputed_year(store, request.target_year, request.interpolator)
    rows, columns = matrix.shape
    return WarmResponse(
        year=request.target_year,
        imputer=request.interpolator,
        rows=rows,
        columns=columns,
        dataset_version=store.version,
    )


WARM = Task(
    model=MODEL_NAME,
    endpoint="warm",
    request_model=WarmRequest,
    check=_check_warm_request,
    run=_warm,
)


def warm_imputers(settings: Settings) -> list[Interpolator]:
    """The imputers WARM_IMPUTERS lists, or `InvalidSetting` naming the allowed values."""
    allowed = {member.value: member for member in Interpolator}
    unknown = [name for name in settings.warm_imputers if name not in allowed]
    if unknown:
        raise InvalidSetting(
            f"WARM_IMPUTERS: {', '.join(map(repr, unknown))} is not an imputer; allowed: "
            f"{', '.join(allowed)} (comma-separated, or empty for no warm-up)"
        )
    return [allowed[name] for name in dict.fromkeys(settings.warm_imputers)]


def _check_warm_imputers(settings: Settings) -> None:
    warm_imputers(settings)


def warm_requests(store: IndicatorStore, settings: Settings) -> list[WarmRequest]:
    """One warm-up per year and imputer, newest years first: the front end asks for recent ones."""
    imputers = warm_imputers(settings)
    return [
        WarmRequest(target_year=int(year), interpolator=imputer)
        for year in sorted(store.years, reverse=True)
        for imputer in imputers
    ]


WARM_UP = Warmup(task=WARM, requests=warm_requests, check_settings=_check_warm_imputers)
