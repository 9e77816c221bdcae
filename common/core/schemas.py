"""Building blocks for request schemas that `/params` turns into front-end form descriptions.

Enums carry a label per member; fields can say where their values come from (another endpoint)
and when they are required (another field's value). Both end up in the OpenAPI schema as `x-`
extensions, which is the one source `/params` reads.
"""

from enum import Enum
from typing import Any

from pydantic import GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema as cs

ENUM_LABELS_KEY = "x-enum-labels"
OPTIONS_ENDPOINT_KEY = "x-options-endpoint"
REQUIRED_IF_KEY = "x-required-if"
LABEL_KEY = "x-label"


class LabelledEnum(str, Enum):
    """A string enum whose members carry a human label: `AFS = ("AFS", "Automatic via ...")`."""

    label: str

    def __new__(cls, value: str, label: str) -> "LabelledEnum":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    def __str__(self) -> str:
        return self.value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: cs.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        schema[ENUM_LABELS_KEY] = [member.label for member in cls]
        return schema

    @classmethod
    def choices(cls) -> list[list[str]]:
        """`[[name, label], ...]`, the shape `/params` uses."""
        return [[member.value, member.label] for member in cls]


def form_field(
    label: str,
    *,
    options_endpoint: str | None = None,
    options_method: str = "GET",
    options_inputs: tuple[str, ...] = (),
    required_if: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The `json_schema_extra` of a form field: its label, option source and conditions."""
    extra: dict[str, Any] = {LABEL_KEY: label}
    if options_endpoint is not None:
        extra[OPTIONS_ENDPOINT_KEY] = {
            "endpoint": options_endpoint,
            "method": options_method,
            "inputs": list(options_inputs),
        }
    if required_if:
        extra[REQUIRED_IF_KEY] = required_if
    return extra
