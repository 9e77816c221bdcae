"""What the sample model offers (derived from the dataset once) and the checks of a request.

Every check raises `InvalidParameter` (a 422 naming the field and its allowed values), so a bad
request never reaches the algorithm.
"""

from common.core.errors import invalid_choice
from common.data.datasets import IndicatorStore
from common.serving.registry import model_name
from models.sampleapi.schemas import SummaryRequest

MEMO = model_name(__name__)  # this model's namespace in the store's memo


def indicator_options(store: IndicatorStore) -> dict[str, str]:
    """Every indicator of the dataset: code -> name (memoised on the store)."""

    def compute() -> dict[str, str]:
        return dict(zip(store.indicators, store.indicator_meta["Indicator"]))

    return store.memo((MEMO, "indicators"), compute)


def check_request(store: IndicatorStore, request: SummaryRequest) -> None:
    if request.indicator not in indicator_options(store):
        raise invalid_choice("indicator", request.indicator, indicator_options(store))
    if request.year not in store.years:
        raise invalid_choice("year", request.year, store.years)
