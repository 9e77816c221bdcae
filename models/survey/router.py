"""HTTP route of the survey clustering model."""

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from common.web.dependencies import HEAVY_ROUTE_RESPONSES, CallerDep, ExecutorDep, SettingsDep
from models.survey.algorithm import cluster_survey, labels_per_row
from models.survey.checks import SizeLimits, check_request, check_size
from models.survey.schemas import ClusteringRequest, ClusteringResponse

router = APIRouter(tags=["Survey Clustering"])


@router.post("/clustering", responses=HEAVY_ROUTE_RESPONSES)
async def clustering(
    request: ClusteringRequest, settings: SettingsDep, executor: ExecutorDep, caller: CallerDep
) -> ClusteringResponse:
    """Cluster the respondents with GPS coordinates on one factor's questions (k by elbow).

    Runs in a training slot like a training (503 when all are busy, 504 past
    SYNC_TIMEOUT_SECONDS); data larger than the SURVEY_MAX_* limits is a 422 before any work.
    """
    await run_in_threadpool(check_size, request.data, SizeLimits.of(settings))
    return await executor.run_work(lambda: _cluster(request), caller)


def _cluster(request: ClusteringRequest) -> ClusteringResponse:
    survey = check_request(request)
    result = cluster_survey(
        survey.table[survey.kept], survey.categorical, survey.continuous, request.max_k
    )
    return ClusteringResponse(
        cluster_label=labels_per_row(survey.kept, result.labels), k=result.k, costs=result.costs
    )
