"""What the correlation model offers (datasets, years, categories, countries) and request checks.

Only SIDS count: a dataset, year, category or country is offered when some SIDS has a value
there. The coverage of each dataset is derived once (memoised on the store) and then reused.
"""

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from common.core.errors import InvalidParameter, invalid_choice
from common.data.datasets import IndicatorStore
from common.serving.registry import model_name
from models.correlation.algorithm import MIN_SHARED_INDICATORS
from models.correlation.schemas import ClusterRequest, CorrelateRequest

MEMO = model_name(__name__)  # this model's namespace in the store's memo

MIN_CLUSTER_COUNTRIES = 2


@dataclass(frozen=True)
class Coverage:
    """Per category of one dataset: how many of its indicators each SIDS has, by year."""

    per_country: dict[str, pd.DataFrame]  # category -> year x SIDS indicator counts
    per_year: dict[str, pd.Series]  # category -> year -> indicators with any SIDS value


def coverage(store: IndicatorStore, dataset: str) -> Coverage:
    """The SIDS coverage of a dataset's categories (the dataset must exist)."""

    def compute() -> Coverage:
        has_value = ~np.isnan(store.values[:, store.sids_mask, :])
        sids = store.countries[store.sids_mask]
        categories = sorted(set(store.indicator_meta.loc[store.indicators_of(dataset), "Category"]))
        per_country, per_year = {}, {}
        for category in categories:
            columns = store.indicators.get_indexer(store.indicators_of(dataset, category))
            block = has_value[:, :, columns]
            per_country[category] = pd.DataFrame(block.sum(axis=2), index=store.years, columns=sids)
            per_year[category] = pd.Series(block.any(axis=1).sum(axis=1), index=store.years)
        return Coverage(per_country, per_year)

    return store.memo((MEMO, "coverage", dataset), compute)


def dataset_options(store: IndicatorStore) -> dict[str, str]:
    """Datasets with SIDS data in some year: code -> name."""

    def compute() -> dict[str, str]:
        codes = sorted(set(store.indicator_meta["Dataset"]))
        return {
            code: store.dataset_names.get(code, code)
            for code in codes
            if any(counts.any() for counts in coverage(store, code).per_year.values())
        }

    return store.memo((MEMO, "datasets"), compute)


def year_options(store: IndicatorStore, dataset: str, category: str | None = None) -> list[int]:
    """Years with SIDS data in the dataset (or in one of its categories)."""
    per_year = coverage(store, dataset).per_year
    selected = [per_year[category]] if category is not None else per_year.values()
    return [year for year in store.years if any(counts[year] > 0 for counts in selected)]


def category_options(store: IndicatorStore, dataset: str, year: int | None = None) -> list[str]:
    """Categories of the dataset with SIDS data in the year (or in any year)."""
    return [
        category
        for category, counts in coverage(store, dataset).per_year.items()
        if (counts[year] if year is not None else counts.sum()) > 0
    ]


def country_options(
    store: IndicatorStore, dataset: str, category: str, year: int, at_least: int = 1
) -> list[str]:
    """SIDS with at least `at_least` values among the dataset's category indicators in the year."""
    counts = cast(pd.Series, coverage(store, dataset).per_country[category].loc[year])
    return list(counts.index[counts >= at_least])


def sids_frame(store: IndicatorStore, dataset: str, category: str, year: int) -> pd.DataFrame:
    """The SIDS with data x the category's indicators with SIDS data, raw values of the year."""
    matrix = store.year_matrix(year).loc[
        country_options(store, dataset, category, year), store.indicators_of(dataset, category)
    ]
    return matrix.loc[:, matrix.notna().any()].copy()


def check_dataset(store: IndicatorStore, dataset: str) -> None:
    options = dataset_options(store)
    if dataset not in options:
        raise invalid_choice("dataset", dataset, options)


def check_year_of_dataset(store: IndicatorStore, dataset: str, year: int) -> None:
    check_dataset(store, dataset)
    _check_year_in(store, year, year_options(store, dataset), f"dataset {dataset!r}")


def check_category(store: IndicatorStore, dataset: str, category: str, year: int) -> None:
    """The dataset, the category (any year), then the year (with data in that category)."""
    check_dataset(store, dataset)
    options = category_options(store, dataset)
    if category not in options:
        raise invalid_choice("category", category, options)
    years = year_options(store, dataset, category)
    _check_year_in(store, year, years, f"dataset {dataset!r}, category {category!r}")


def check_correlate_request(store: IndicatorStore, request: CorrelateRequest) -> None:
    """Every check a correlate request must pass; raises `InvalidParameter`."""
    dataset, category, year = request.dataset, request.category, request.year
    check_category(store, dataset, category, year)
    if coverage(store, dataset).per_year[category][year] < MIN_SHARED_INDICATORS:
        raise InvalidParameter(
            f"category {category!r} of dataset {dataset!r} has fewer than "
            f"{MIN_SHARED_INDICATORS} indicators with SIDS data in {year}: too few to correlate",
            field="category",
            allowed=_categories_with_indicators(store, dataset, year, MIN_SHARED_INDICATORS),
        )
    options = country_options(store, dataset, category, year)
    if request.country not in options:
        raise invalid_choice("country", request.country, options)
    if request.country not in correlatable_countries(store, dataset, category, year):
        raise too_few_shared(store, request)


def too_few_shared(store: IndicatorStore, request: CorrelateRequest) -> InvalidParameter:
    """The error for a country that shares too few indicators with every other SIDS."""
    return InvalidParameter(
        f"country {request.country!r} shares fewer than {MIN_SHARED_INDICATORS} indicators of "
        f"{request.dataset!r}/{request.category!r} in {request.year} with any other SIDS: "
        "too few to correlate",
        field="country",
        allowed=correlatable_countries(store, request.dataset, request.category, request.year),
    )


def correlatable_countries(
    store: IndicatorStore, dataset: str, category: str, year: int
) -> list[str]:
    """SIDS with enough indicators in the category and year to be correlated at all."""
    return country_options(store, dataset, category, year, at_least=MIN_SHARED_INDICATORS)


def check_cluster_request(store: IndicatorStore, request: ClusterRequest) -> None:
    """Every check a cluster request must pass (the schema checks k >= 1)."""
    dataset, category, year = request.dataset, request.category, request.year
    check_category(store, dataset, category, year)
    if len(country_options(store, dataset, category, year)) < MIN_CLUSTER_COUNTRIES:
        raise InvalidParameter(
            f"fewer than {MIN_CLUSTER_COUNTRIES} SIDS have data in {dataset!r}/{category!r} "
            f"in {year}: too few to cluster",
            field="category",
            allowed=_categories_with_countries(store, dataset, year, MIN_CLUSTER_COUNTRIES),
        )


def _categories_with_indicators(
    store: IndicatorStore, dataset: str, year: int, at_least: int
) -> list[str]:
    """Categories with at least `at_least` indicators with SIDS data in the year."""
    per_year = coverage(store, dataset).per_year
    return [category for category, counts in per_year.items() if counts[year] >= at_least]


def _categories_with_countries(
    store: IndicatorStore, dataset: str, year: int, at_least: int
) -> list[str]:
    """Categories with at least `at_least` SIDS with data in the year."""
    per_country = coverage(store, dataset).per_country
    return [
        category
        for category, counts in per_country.items()
        if (counts.loc[year] > 0).sum() >= at_least
    ]


def _check_year_in(store: IndicatorStore, year: int, years: list[int], where: str) -> None:
    if year not in store.years:
        raise invalid_choice("year", year, store.years)
    if year not in years:
        raise InvalidParameter(
            f"year {year} has no SIDS data in {where}; choose one of the {len(years)} years with "
            "data",
            field="year",
            allowed=years,
        )
