"""The training endpoint of the model as a task: cached, limited, and runnable as an async job."""

from common.core.settings import Settings
from common.data.datasets import IndicatorStore
from common.serving.registry import model_name
from common.serving.tasks import Limit, Task
from models.twolvlImp.imputation import impute
from models.twolvlImp.options import check_predict_request
from models.twolvlImp.schemas import PredictRequest, PredictResponse

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
