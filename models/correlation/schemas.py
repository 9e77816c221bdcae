"""Request and response schemas of the correlation and clustering model (the front end's names)."""

from pydantic import BaseModel, Field

from common.core.schemas import form_field

DATASET_FIELD = Field(
    description="A dataset with SIDS data, from /correlation/datasets.",
    examples=["wdi"],
    json_schema_extra=form_field("Dataset", options_endpoint="/datasets"),
)
YEAR_FIELD = Field(
    description="The year whose values are compared.",
    examples=[2015],
    json_schema_extra=form_field("Year", options_endpoint="/years", options_inputs=("dataset",)),
)
CATEGORY_FIELD = Field(
    description="The indicator category whose indicators make up a country's profile.",
    examples=["Economy"],
    json_schema_extra=form_field(
        "Category", options_endpoint="/categories", options_inputs=("dataset", "year")
    ),
)


class CorrelateRequest(BaseModel):
    """Rank the SIDS by how closely their profile follows one country's."""

    dataset: str = DATASET_FIELD
    year: int = YEAR_FIELD
    category: str = CATEGORY_FIELD
    country: str = Field(
        description="The SIDS (ISO3 code) the others are compared with.",
        examples=["FJI"],
        json_schema_extra=form_field(
            "Country",
            options_endpoint="/countries",
            options_inputs=("dataset", "category", "year"),
        ),
    )


class ClusterRequest(BaseModel):
    """Group the SIDS into k clusters of similar profiles."""

    dataset: str = DATASET_FIELD
    year: int = YEAR_FIELD
    category: str = CATEGORY_FIELD
    k: int = Field(
        ge=1,
        description="How many clusters; capped at the number of SIDS with data.",
        examples=[3],
        json_schema_extra=form_field("Number of clusters"),
    )


class CorrelateResponse(BaseModel):
    """The other SIDS, most correlated first: `{"Country Code": [...], "<COUNTRY>": [r, ...]}`."""

    country_corr: dict[str, list[str] | list[float]] = Field(
        description="Two parallel lists: the SIDS codes, and under the requested country's code "
        "their Pearson correlations with it, highest first."
    )
    dataset_version: str


class ClusterResponse(BaseModel):
    """Two parallel lists: the SIDS with data and their cluster labels (0..k-1)."""

    country: list[str]
    label: list[int]
    dataset_version: str
