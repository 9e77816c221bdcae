"""Request-independent data of the history method: derived once per dataset and reused."""

import numpy as np
import pandas as pd
import pytest

from common.data.datasets import IndicatorStore, demo_raw_dataset, parse_dataset
from models.twolvlImp import cross_section, history_method, imputation, year_caches
from models.twolvlImp.options import predictors_for, targets_of_year
from models.twolvlImp.schemas import Interpolator

NAN = np.nan
YEARS = (2000, 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008)


def _tiny_store(series: list[list[float]]) -> IndicatorStore:
    """One indicator, one country per series."""
    countries = pd.Index([f"C{i}" for i in range(len(series))], name="Country Code")
    indicators = pd.Index(["d-x"], name="Indicator Code")
    values = np.array(series, dtype=float).T[:, :, None]  # years x countries x 1
    meta = pd.DataFrame(
        {"Indicator": ["x"], "Dimension": ["x"], "Category": ["c"], "Dataset": ["d"]},
        index=indicators,
    )
    return IndicatorStore("v", "test", YEARS, countries, indicators, values, meta, {"d": "D"})


def test_own_history_fills_from_the_country_series() -> None:
    reach = year_caches.OWN_HISTORY_REACH
    store = _tiny_store(
        [
            [0.0, NAN, NAN, NAN, 8.0, NAN, NAN, NAN, NAN],  # inside: interpolated
            [5.0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN],  # 3 years after its last value
            [7.0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
            [NAN] * 9,  # never measured
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],  # observed: kept
        ]
    )
    filled = year_caches.own_history_year(store, 2001)["d-x"]
    assert filled["C0"] == pytest.approx(2.0)
    assert filled["C1"] == 5.0  # 1 year from its value: carried
    assert np.isnan(year_caches.own_history_year(store, 2000 + reach + 1)["d-x"]["C1"])
    assert year_caches.own_history_year(store, 2000 + reach)["d-x"]["C2"] == 7.0
    assert np.isnan(filled["C3"])
    assert filled["C4"] == 2.0


@pytest.fixture(scope="module")
def store() -> IndicatorStore:
    """A store of its own: what these tests memoise is not shared with other tests."""
    return parse_dataset(demo_raw_dataset())


def test_predictor_columns_cover_every_target_predictors(store: IndicatorStore) -> None:
    columns = set(year_caches.predictor_columns(store, 2015))
    for target in targets_of_year(store, 2015)[:10]:
        assert set(predictors_for(store, 2015, target)) <= columns


@pytest.mark.parametrize("interpolator", [Interpolator.KNNImputer, Interpolator.SimpleImputer])
def test_imputed_year_has_no_gaps_and_keeps_observed_values(
    store: IndicatorStore, interpolator: Interpolator
) -> None:
    filled = year_caches.imputed_year(store, 2015, interpolator)
    raw = store.year_matrix(2015)[filled.columns]
    assert list(filled.index) == list(store.countries)
    assert not filled.isna().any().any()
    observed = raw.notna().to_numpy()
    assert np.allclose(filled.to_numpy()[observed], raw.to_numpy()[observed])


def test_imputed_year_is_computed_once_per_year_and_imputer(
    store: IndicatorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    original = cross_section.fill_predictor_gaps

    def counting(*args, **kwargs):
        calls.append(args[2])
        return original(*args, **kwargs)

    monkeypatch.setattr(cross_section, "fill_predictor_gaps", counting)
    first = year_caches.imputed_year(store, 2012, Interpolator.SimpleImputer)
    assert year_caches.imputed_year(store, 2012, Interpolator.SimpleImputer) is first
    assert calls == [Interpolator.SimpleImputer]
    year_caches.imputed_year(store, 2013, Interpolator.SimpleImputer)
    assert len(calls) == 2


def test_neighbouring_years_are_the_imputed_years_around_the_target_year(
    store: IndicatorStore,
) -> None:
    first, middle = store.years[0], store.years[len(store.years) // 2]
    chosen = list(predictors_for(store, middle, targets_of_year(store, middle)[0])[:3])
    imputer = Interpolator.SimpleImputer
    reach = history_method.NEIGHBOURING_YEARS
    position = store.year_index(middle)
    years = imputation._neighbouring_years(store, middle, imputer, chosen)
    around = [p for p in range(position - reach, position + reach + 1) if p != position]
    assert [p for p, _ in years] == around
    for p, frame in years:
        expected = year_caches.imputed_year(store, store.years[p], imputer)[chosen]
        pd.testing.assert_frame_equal(frame, expected)
    at_the_start = imputation._neighbouring_years(store, first, imputer, chosen)
    assert [p for p, _ in at_the_start] == list(range(1, reach + 1))
    # A year where a chosen indicator is no predictor column is left out.
    assert imputation._neighbouring_years(store, middle, imputer, [*chosen, "d-none"]) == ()


def test_series_of_some_countries_are_those_of_all_countries() -> None:
    """`_country_series` with a mask gathers the same values as the whole array, then masked."""
    store = parse_dataset(demo_raw_dataset())
    codes = [store.indicators[5], store.indicators[1], store.indicators[40]]
    some = np.arange(len(store.countries)) % 3 != 0
    everyone = imputation._country_series(store, codes)
    assert everyone.shape == (len(store.countries), len(store.years), 3)
    np.testing.assert_array_equal(imputation._country_series(store, codes, some), everyone[some])
