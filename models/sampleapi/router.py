"""HTTP routes of the sample model: plain `def` handlers (FastAPI runs them in a thread pool).

A handler checks the request, calls the algorithm and shapes the response; nothing else.
`StoreDep` gives the loaded dataset (or a 503 when there is none).
"""

from fastapi import APIRouter

from common.web.dependencies import StoreDep
from models.sampleapi import options
from models.sampleapi.algorithm import summarise
from models.sampleapi.schemas import CountryGroup, SummaryRequest, SummaryResponse

router = APIRouter(tags=["Sample API"])


@router.get("/indicators")
def get_indicators(store: StoreDep) -> dict[str, str]:
    """The indicators that can be summarised: code -> name."""
    return options.indicator_options(store)


@router.post("/summary")
def summary(store: StoreDep, request: SummaryRequest) -> SummaryResponse:
    """Count, mean, minimum and maximum of an indicator across SIDS (or all countries) in a year."""
    options.check_request(store, request)
    column = store.year_matrix(request.year)[request.indicator]
    if request.group == CountryGroup.sids:
        column = column[store.sids_mask]
    result = summarise(column.to_numpy())
    return SummaryResponse(
        indicator=request.indicator,
        year=request.year,
        count=result.count,
        mean=result.mean,
        min=result.min,
        max=result.max,
        dataset_version=store.version,
    )
