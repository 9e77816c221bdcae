"""Request and response schemas of the sample model.

Everything the front end's form needs is declared here: a `LabelledEnum` gives each choice a
label, and `form_field` gives each field a label and, where its values come from another
endpoint, that endpoint (a path relative to the model's prefix).
"""

from pydantic import BaseModel, Field

from common.core.schemas import LabelledEnum, form_field


class CountryGroup(LabelledEnum):
    """Which countries are summarised."""

    sids = ("sids", "Small Island Developing States")
    all = ("all", "All countries")


class SummaryRequest(BaseModel):
    """Summarise one indicator across countries in one year."""

    indicator: str = Field(
        description="An indicator code from /sampleapi/indicators.",
        json_schema_extra=form_field("Indicator", options_endpoint="/indicators"),
    )
    year: int = Field(
        description="A year of the dataset.",
        examples=[2015],
        json_schema_extra=form_field("Year"),
    )
    group: CountryGroup = Field(
        CountryGroup.sids,
        description="The countries summarised (SIDS by default).",
        json_schema_extra=form_field("Countries"),
    )


class SummaryResponse(BaseModel):
    """Count, mean, minimum and maximum of the countries' values (null when none has one)."""

    indicator: str
    year: int
    count: int = Field(description="How many of the countries have a value.")
    mean: float | None
    min: float | None
    max: float | None
    dataset_version: str = Field(description="The version of the data the answer comes from.")
