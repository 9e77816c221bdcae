"""Request and response schemas of survey clustering (JSON keys as the front end sends)."""

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from common.core.schemas import LabelledEnum, form_field


class QuestionType(LabelledEnum):
    """What kind of answer a survey question holds."""

    categorical = ("categorical", "Categorical")
    continuous = ("continuous", "Continuous")
    latitude = ("GPS latitude", "GPS latitude")
    longitude = ("GPS longitude", "GPS longitude")


class Question(BaseModel):
    """One row of the survey's metadata: a question, its type and the factor it belongs to."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    name: str = Field(alias="Question Name", description="The column of the question in data.")
    type: QuestionType = Field(alias="Type")
    factor: str | None = Field(
        None, alias="Factor", description="The factor (theme) the question belongs to."
    )


# Validated by `checks.survey_table` (so every problem is a 422 naming `data`); the schema shows
# the records orient, the columns orient is accepted too.
SurveyData = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "object"},
            "description": "The survey answers, one object per respondent (pandas' records "
            'orient: [{"q1": "yes", "lat": -17.7}, ...]). The columns orient '
            '({"q1": {"0": "yes"}} or {"q1": ["yes"]}) is accepted too.',
        }
    ),
]


def _metadata_records(value: Any) -> Any:
    """Metadata in pandas' columns orient (`{"Question Name": [...], "Type": [...]}`, each column
    a list or an object keyed by row: `{"0": ...}`) as records; rows in the order their keys first
    appear. Records pass through unchanged."""
    if not isinstance(value, dict):
        return value
    columns: dict[str, dict[str, Any]] = {}
    for name, column in value.items():
        if isinstance(column, list):
            columns[name] = {str(row): cell for row, cell in enumerate(column)}
        elif isinstance(column, dict):
            columns[name] = {str(row): cell for row, cell in column.items()}
        else:
            raise ValueError(
                f"metadata column {name!r} must be a list or an object keyed by row, as in "
                "pandas' columns orient"
            )
    rows = dict.fromkeys(row for column in columns.values() for row in column)
    return [
        {name: column[row] for name, column in columns.items() if row in column} for row in rows
    ]


def _column_schema(items: dict[str, Any]) -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "array", "items": items},
            {"type": "object", "additionalProperties": items},
        ]
    }


METADATA_COLUMNS_SCHEMA = {
    "type": "object",
    "description": 'The same in pandas\' columns orient: {"Question Name": [...], "Type": [...], '
    '"Factor": [...]}, each column a list or an object keyed by row ({"0": ...}).',
    "properties": {
        "Question Name": _column_schema({"type": "string"}),
        "Type": _column_schema({"enum": [member.value for member in QuestionType]}),
        "Factor": _column_schema({"anyOf": [{"type": "string"}, {"type": "null"}]}),
    },
    "required": ["Question Name", "Type"],
}


def _metadata_schema(schema: dict[str, Any]) -> None:
    """Records (what the field holds once parsed) or columns, as the original service took."""
    records = {key: schema.pop(key) for key in ("type", "items")}
    schema["anyOf"] = [records, METADATA_COLUMNS_SCHEMA]
    schema.update(form_field("Survey metadata"))


class ClusteringRequest(BaseModel):
    """Cluster a survey's respondents on the questions of one factor."""

    data: SurveyData = Field(json_schema_extra=form_field("Survey data"))
    metadata: Annotated[list[Question], BeforeValidator(_metadata_records)] = Field(
        description="Every question used: its name (a column of data), type and factor. One "
        "object per question (records orient), or pandas' columns orient "
        '({"Question Name": [...], "Type": [...], "Factor": [...]}, each column a list or an '
        'object keyed by row: {"0": ...}).',
        json_schema_extra=_metadata_schema,
    )
    factor: str = Field(
        description="The factor whose categorical and continuous questions are clustered on.",
        json_schema_extra=form_field("Factor"),
    )
    max_k: int = Field(
        description="The largest number of clusters considered by the elbow method.",
        examples=[8],
        json_schema_extra=form_field("Maximum number of clusters"),
    )


class ClusteringResponse(BaseModel):
    """A cluster label per input row, and the elbow curve the number of clusters came from."""

    cluster_label: list[int | None] = Field(
        description="One label per input row, in input order; null for rows without GPS "
        "coordinates."
    )
    k: int = Field(description="The number of clusters chosen by the elbow method.")
    costs: list[float] = Field(
        description="The elbow curve: costs[i] is the clustering cost with i + 1 clusters."
    )
