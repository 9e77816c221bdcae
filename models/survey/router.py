"""HTTP route of the survey clustering model."""

from fastapi import APIRouter

from models.survey.algorithm import cluster_survey, labels_per_row
from models.survey.checks import check_request
from models.survey.schemas import ClusteringRequest, ClusteringResponse

router = APIRouter(tags=["Survey Clustering"])


@router.post("/clustering")
def clustering(request: ClusteringRequest) -> ClusteringResponse:
    """Cluster the respondents with GPS coordinates on one factor's questions (k by elbow)."""
    survey = check_request(request)
    result = cluster_survey(
        survey.table[survey.kept], survey.categorical, survey.continuous, request.max_k
    )
    return ClusteringResponse(
        cluster_label=labels_per_row(survey.kept, result.labels), k=result.k, costs=result.costs
    )
