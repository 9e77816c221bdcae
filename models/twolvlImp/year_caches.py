"""What the history method reuses across requests: derived once per dataset and memoised.

A year's predictor matrix is imputed once per base imputer, for every country and every indicator
that can be a predictor that year (gaps filled from the country's own neighbouring years first,
then by the imputer); a request then only slices rows and columns out of it. With a shared
blob store (`IndicatorStore.shared_matrix`) the imputed matrix is computed once per dataset
version for every process, under a name that carries IMPUTATION_CODE: a change to the code that
computes it, or to the libraries it uses, is a new name, never a stale matrix.
"""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from common.data.datasets import IndicatorStore
from common.serving.registry import model_name
from models.twolvlImp import cross_section, fast_forest, history
from models.twolvlImp.options import predictors_for, targets_of_year
from models.twolvlImp.schemas import Interpolator

MEMO = model_name(__name__)
OWN_HISTORY_REACH = 3  # years a country's nearest value is carried beyond the end of its series


def _code_version() -> str:
    """A hash of the modules an imputed matrix is computed by, and of the library versions."""
    digest = hashlib.sha256(f"numpy {np.__version__} sklearn {sklearn.__version__}".encode())
    for module in (cross_section, fast_forest, history):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:12]


IMPUTATION_CODE = _code_version()


def predictor_columns(store: IndicatorStore, year: int) -> pd.Index:
    """Every indicator that is a candidate predictor of some target in the year."""

    def compute() -> pd.Index:
        usable = np.zeros(len(store.indicators), dtype=bool)
        for target in targets_of_year(store, year):
            usable[store.indicators.get_indexer(predictors_for(store, year, target))] = True
        return store.indicators[usable]

    return store.memo((MEMO, "predictor_columns", year), compute)


def imputed_year(store: IndicatorStore, year: int, interpolator: Interpolator) -> pd.DataFrame:
    """The year's predictor columns for every country, gaps filled.

    A gap is first filled from the country's own series of the indicator (`own_history_year`);
    what remains is filled by the base imputer, fitted on all countries at once. Once per
    dataset version, year and imputer, shared by every process when the store has a shared
    blob store.
    """
    columns = predictor_columns(store, year)

    def compute() -> pd.DataFrame:
        matrix = own_history_year(store, year)[columns]
        filled, _ = cross_section.fill_predictor_gaps(matrix, matrix.iloc[:0], interpolator)
        return filled

    key = (MEMO, "imputed_year", str(year), interpolator.value, IMPUTATION_CODE)
    return store.shared_matrix(key, store.countries, columns, compute)


def own_history_year(store: IndicatorStore, year: int) -> pd.DataFrame:
    """The year's matrix with each gap filled from the same country's series of the indicator
    (`history.baseline`): the straight line between its nearest values before and after the
    year, or its nearest value when only one side has one and it is at most OWN_HISTORY_REACH
    years away."""

    def compute() -> pd.DataFrame:
        position = store.year_index(year)
        shape = (len(store.countries), len(store.indicators))
        series = store.values.transpose(1, 2, 0).reshape(-1, len(store.years))
        observed = np.isfinite(series)
        ones = np.ones(len(series), dtype=int)
        anchors = history.find_anchors(observed, position, ones, ones)
        base = history.baseline(series, anchors)
        one_sided = (anchors.previous < 0) | (anchors.following < 0)
        distance = np.where(
            anchors.previous >= 0, position - anchors.previous, anchors.following - position
        )
        base[one_sided & (distance > OWN_HISTORY_REACH)] = np.nan
        own = np.where(observed[:, position], series[:, position], base)
        return pd.DataFrame(own.reshape(shape), index=store.countries, columns=store.indicators)

    return store.memo((MEMO, "own_history_year", year), compute)
