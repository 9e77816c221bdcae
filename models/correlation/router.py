"""HTTP routes of the correlation and clustering model (paths and shapes as the front end uses)."""

from typing import Annotated

from fastapi import APIRouter, Query

from common.web.dependencies import StoreDep
from models.correlation import options
from models.correlation.algorithm import cluster_countries, correlate_country
from models.correlation.schemas import (
    ClusterRequest,
    ClusterResponse,
    CorrelateRequest,
    CorrelateResponse,
)

router = APIRouter(tags=["Country Correlation and Clustering"])

COUNTRY_CODE_KEY = "Country Code"

DatasetQuery = Annotated[str, Query(description="A dataset code from /correlation/datasets.")]
YearQuery = Annotated[int, Query(description="A year from /correlation/years.")]
CategoryQuery = Annotated[str, Query(description="A category from /correlation/categories.")]


@router.get("/datasets")
def get_datasets(store: StoreDep) -> dict[str, str]:
    """Datasets with SIDS data: code -> name."""
    return options.dataset_options(store)


@router.get("/years")
def get_years(store: StoreDep, dataset: DatasetQuery) -> list[int]:
    """Years with SIDS data in the dataset."""
    options.check_dataset(store, dataset)
    return options.year_options(store, dataset)


@router.get("/categories")
def get_categories(store: StoreDep, dataset: DatasetQuery, year: YearQuery) -> list[str]:
    """Categories of the dataset with SIDS data in the year."""
    options.check_year_of_dataset(store, dataset, year)
    return options.category_options(store, dataset, year)


@router.get("/countries")
def get_countries(
    store: StoreDep, dataset: DatasetQuery, category: CategoryQuery, year: YearQuery
) -> list[str]:
    """SIDS with data in the dataset's category in the year."""
    options.check_category(store, dataset, category, year)
    return options.country_options(store, dataset, category, year)


@router.post("/correlate")
def correlate(store: StoreDep, request: CorrelateRequest) -> CorrelateResponse:
    """The other SIDS ranked by the correlation of their indicator profile with the country's."""
    options.check_correlate_request(store, request)
    frame = options.sids_frame(store, request.dataset, request.category, request.year)
    ranked = correlate_country(frame, request.country)
    if ranked.empty:
        raise options.too_few_shared(store, request)
    return CorrelateResponse(
        country_corr={COUNTRY_CODE_KEY: list(ranked.index), request.country: ranked.tolist()},
        dataset_version=store.version,
    )


@router.post("/cluster")
def cluster(store: StoreDep, request: ClusterRequest) -> ClusterResponse:
    """K-means clusters of the SIDS with data, gaps filled iteratively from the centroids."""
    options.check_cluster_request(store, request)
    frame = options.sids_frame(store, request.dataset, request.category, request.year)
    labels = cluster_countries(frame, request.k).labels
    return ClusterResponse(
        country=list(labels.index), label=labels.tolist(), dataset_version=store.version
    )
