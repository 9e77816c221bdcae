"""Request and response schemas of the time-series imputation model (the front end's names)."""

from pydantic import BaseModel, Field

from common.core.schemas import LabelledEnum, form_field


class Method(LabelledEnum):
    """The pandas interpolation method (scipy's for all but linear)."""

    linear = ("linear", "Linear")
    nearest = ("nearest", "Nearest")
    zero = ("zero", "Zero")
    slinear = ("slinear", "Spline of order 1 (slinear)")
    quadratic = ("quadratic", "Quadratic")
    cubic = ("cubic", "Cubic")
    spline = ("spline", "Spline")
    polynomial = ("polynomial", "Polynomial")
    piecewise_polynomial = ("piecewise_polynomial", "Piecewise polynomial")
    pchip = ("pchip", "PCHIP")
    akima = ("akima", "Akima")
    cubicspline = ("cubicspline", "Cubic spline")


class Direction(LabelledEnum):
    """Which gaps are filled: after the first observed year, before the last one, or both."""

    forward = ("forward", "Forward")
    backward = ("backward", "Backward")
    both = ("both", "Both")


# The methods whose order `d` is required.
ORDER_METHODS: tuple[Method, ...] = (Method.spline, Method.polynomial)


class ImputeRequest(BaseModel):
    """A request to fill the gaps of one SIDS country's series of one indicator."""

    target: str = Field(
        description="The indicator code whose series is filled.",
        json_schema_extra=form_field("Indicator", options_endpoint="/targets"),
    )
    country: str = Field(
        description="The ISO3 code of a SIDS that has at least one value of the indicator.",
        examples=["JAM"],
        json_schema_extra=form_field(
            "Country", options_endpoint="/countries", options_inputs=("target",)
        ),
    )
    method: Method = Field(
        description="The interpolation method.", json_schema_extra=form_field("Method")
    )
    direction: Direction = Field(
        Direction.both,
        description="forward fills only after the first observed year, backward only before the "
        "last one, both fills on either side where the method can.",
        json_schema_extra=form_field("Direction"),
    )
    d: int | None = Field(
        None,
        description="The order of the spline (1..5) or polynomial (1..10); ignored otherwise.",
        examples=[3],
        json_schema_extra=form_field(
            "Order",
            required_if=[{"method": method.value} for method in ORDER_METHODS],
        ),
    )


class SplitSeries(BaseModel):
    """A one-row frame in pandas' split orient: `[[target, country]]` x years."""

    index: list[list[str]]
    columns: list[int]
    data: list[list[float | None]] = Field(
        description="Observed and filled values; years still missing are null."
    )


class ImputeResponse(BaseModel):
    """The filled series and which years were filled."""

    missing_years: list[int] = Field(description="The years that were missing and are filled.")
    imputed_series: SplitSeries
    dataset_version: str
