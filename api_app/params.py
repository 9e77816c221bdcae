"""`/params`: the form descriptions the front end builds its UI from, read off the OpenAPI schema.

The request schema of each model's main endpoint is the one source: field titles and labels,
descriptions, types, enum labels (`x-enum-labels`), required and required-if conditions
(`x-required-if`) and option endpoints (`x-options-endpoint`, see `common.core.schemas`).
"""

from typing import Any, Literal

from pydantic import BaseModel, Field

from common.core.schemas import ENUM_LABELS_KEY, LABEL_KEY, OPTIONS_ENDPOINT_KEY, REQUIRED_IF_KEY
from common.serving.registry import ModelSpec

InputType = Literal["string", "integer", "number", "boolean", "array", "object", "enum"]


class OptionsEndpoint(BaseModel):
    """Where the allowed values of an input come from."""

    endpoint: str
    method: str
    inputs: list[str]


class FormInput(BaseModel):
    """One input of a model's form."""

    parameter: str
    label: str
    description: str | None = None
    type: InputType
    values: list[list[Any]] | None = Field(None, description="[[name, label], ...] of an enum.")
    minimum: float | None = Field(None, description="Smallest value of a number.")
    maximum: float | None = Field(
        None, description="Largest value of a number (caps set by the service's settings included)."
    )
    conditions: list[dict[str, Any]] | None = None
    req_endpoint: OptionsEndpoint | None = None


class ModelForm(BaseModel):
    """The form of one model's main endpoint."""

    model: str
    label: str
    endpoint: str
    method: str
    inputs: list[FormInput]


def describe_models(openapi: dict[str, Any], models: list[ModelSpec]) -> list[ModelForm]:
    """The form of every model, in the order given."""
    return [_describe(openapi, model) for model in models]


def _describe(openapi: dict[str, Any], model: ModelSpec) -> ModelForm:
    path = model.prefix + model.main_endpoint
    operation = openapi["paths"][path][model.main_method.lower()]
    if "requestBody" in operation:
        schema = _resolve(
            openapi, operation["requestBody"]["content"]["application/json"]["schema"]
        )
        required = set(schema.get("required", []))
        fields = schema.get("properties", {}).items()
        inputs = [_input(openapi, name, prop, name in required) for name, prop in fields]
    else:
        inputs = [_query_input(openapi, parameter) for parameter in operation.get("parameters", [])]
    return ModelForm(
        model=model.name, label=model.label, endpoint=path, method=model.main_method, inputs=inputs
    )


def _query_input(openapi: dict[str, Any], parameter: dict[str, Any]) -> FormInput:
    prop = dict(parameter.get("schema", {}))
    prop.setdefault("description", parameter.get("description"))
    return _input(openapi, parameter["name"], prop, parameter.get("required", False))


def _input(openapi: dict[str, Any], name: str, prop: dict[str, Any], required: bool) -> FormInput:
    value_schema = _resolve(openapi, _non_null(prop))
    labels = value_schema.get(ENUM_LABELS_KEY)
    enum = value_schema.get("enum")
    if enum is not None:
        values = [[value, label] for value, label in zip(enum, labels or enum)]
    else:
        values = None
    return FormInput(
        parameter=name,
        label=prop.get(LABEL_KEY) or prop.get("title") or name,
        description=prop.get("description") or value_schema.get("description"),
        type="enum" if enum is not None else value_schema.get("type", "string"),
        values=values,
        minimum=value_schema.get("minimum"),
        maximum=value_schema.get("maximum"),
        conditions=_conditions(prop, required),
        req_endpoint=prop.get(OPTIONS_ENDPOINT_KEY),
    )


def _conditions(prop: dict[str, Any], required: bool) -> list[dict[str, Any]] | None:
    if required:
        return [{"required": True}]
    if REQUIRED_IF_KEY in prop:
        return [{"required": prop[REQUIRED_IF_KEY]}]
    return None


def _non_null(prop: dict[str, Any]) -> dict[str, Any]:
    """The first non-null branch of a field's `anyOf` (an Optional field's value; the preferred
    one of several shapes), or the property itself."""
    branches = [branch for branch in prop.get("anyOf", []) if branch.get("type") != "null"]
    return branches[0] if branches else prop


def _resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref")
    if reference is None:
        return schema
    node: Any = openapi
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return node
