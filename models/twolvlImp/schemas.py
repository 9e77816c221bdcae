"""Request and response schemas of the two-level imputation model (names as the front end uses)."""

from pydantic import BaseModel, ConfigDict, Field

from common.core.schemas import LabelledEnum, form_field


class Scheme(LabelledEnum):
    """How predictors are chosen."""

    AFS = ("AFS", "Automatic via feature selection")
    PCA = ("PCA", "Automatic via PCA")
    MANUAL = ("MANUAL", "Manual")


class Interpolator(LabelledEnum):
    """How gaps in the predictors are filled before training."""

    KNNImputer = ("KNNImputer", "K Nearest Neighbour Interpolation")
    IterativeImputer = ("IterativeImputer", "Iterative Imputer Interpolation")
    SimpleImputer = ("SimpleImputer", "Simple Interpolation")


class Interval(LabelledEnum):
    """How the 90% prediction interval is computed."""

    bootstrap = ("bootstrap", "Residual Bootstrap")
    quantile = ("quantile", "Quantile")


class Model(LabelledEnum):
    """The regressor; `all` picks the best by cross-validation."""

    rfr = ("rfr", "Random Forest Regressor")
    gbr = ("gbr", "Gradient Boost Regressor")
    etr = ("etr", "Extra tree Regressor")
    all = ("all", "Best Model")


class Method(LabelledEnum):
    """What the estimate of a gap learns from."""

    history = ("history", "Other countries and the country's own history")
    cross_section = ("cross_section", "Other countries in the year only (original)")


YEAR_FIELD = Field(
    description="The year whose gaps are filled (a number, or a string of digits as the front "
    'end sends it from its route: `2015` or `"2015"`).',
    examples=[2015],
    json_schema_extra=form_field("Target year", options_endpoint="/target_years"),
)
DATASET_FIELD = Field(
    description="The dataset the target indicator belongs to.",
    json_schema_extra=form_field(
        "Dataset", options_endpoint="/datasets", options_inputs=("target_year",)
    ),
)
TARGET_FIELD = Field(
    description="The indicator whose missing SIDS values are estimated.",
    json_schema_extra=form_field(
        "Target indicator", options_endpoint="/targets", options_inputs=("target_year", "dataset")
    ),
)
SCHEME_FIELD = Field(
    description="How predictors are chosen: by recursive feature elimination, by principal "
    "component loadings, or by hand.",
    json_schema_extra=form_field("Predictor selection"),
)


class PredictorsRequest(BaseModel):
    """Which predictors are available for a target."""

    target_year: int = YEAR_FIELD
    dataset: str = DATASET_FIELD
    target: str = TARGET_FIELD
    scheme: Scheme = SCHEME_FIELD


class PredictRequest(BaseModel):
    """A request to estimate the SIDS gaps of one indicator in one year."""

    manual_predictors: list[str] | None = Field(
        None,
        description="Predictor indicator codes, for the MANUAL scheme.",
        min_length=1,
        json_schema_extra=form_field(
            "Predictors",
            options_endpoint="/predictors",
            options_method="POST",
            options_inputs=("target_year", "dataset", "target", "scheme"),
            required_if=[{"scheme": Scheme.MANUAL.value}],
        ),
    )
    number_predictor: int | None = Field(
        None,
        description="How many predictors the AFS or PCA scheme picks (the front end offers 5, "
        "10 and 20): 1 up to the target's available predictors (`POST /twolvlImp/predictors`).",
        examples=[10],
        json_schema_extra=form_field(
            "Number of predictors",
            options_endpoint="/predictors",
            options_method="POST",
            options_inputs=("target_year", "dataset", "target", "scheme"),
            required_if=[{"scheme": Scheme.AFS.value}, {"scheme": Scheme.PCA.value}],
        ),
    )
    target_year: int = YEAR_FIELD
    target: str = TARGET_FIELD
    interpolator: Interpolator = Field(
        description="The base imputer that fills gaps in the predictors before training.",
        json_schema_extra=form_field("Base imputer"),
    )
    scheme: Scheme = SCHEME_FIELD
    estimators: int = Field(
        ge=1,
        description="Number of trees for tree-based models: 1 up to the service's "
        "`MAX_ESTIMATORS` setting (1000 by default; the schema's `maximum` is this service's "
        "value). The front end offers 10, 100, 500 and 1000. Many trees with `model` `all` and "
        "the `IterativeImputer`, or with `method` `cross_section`, can outlast the sync timeout: "
        "when `POST /twolvlImp/estimate` answers more than half of the `SYNC_TIMEOUT_SECONDS` "
        "setting (220 s by default; the estimate runs low on a loaded machine), send the request "
        "as a job (`POST /jobs`).",
        examples=[100],
        json_schema_extra=form_field("Number of trees"),
    )
    model: Model = Field(
        description="The regressor to train.", json_schema_extra=form_field("Model")
    )
    interval: Interval = Field(
        description="How the 90% prediction interval is computed. Method `history`: both are "
        "calibrated on cross-validated errors (split-conformal): `quantile` scales each "
        "interval by how hard the gap is (the trees' disagreement; for a gap inside a series, "
        "how rough the series is and how far its nearest values are), `bootstrap` gives every "
        "gap of a kind the same width. Method `cross_section`: `quantile` is the trees' spread "
        "(5%/95% quantile-loss models for `gbr`), `bootstrap` the bootstrapped cross-validated "
        "residuals.",
        json_schema_extra=form_field("Prediction interval"),
    )
    dataset: str = DATASET_FIELD
    method: Method = Field(
        Method.history,
        description="What an estimate learns from. `history` (the default): the year's "
        "cross-country predictors plus the country's own values of the target in other years: "
        "the straight line between its nearest values before and after the year (the nearest "
        "value at a series' end), corrected by a model of how such lines err, trained on the "
        "countries that have the value with the same years hidden; a country with no value of "
        "the target in any year gets the cross-country estimate (the trees alone or on the "
        "residuals of a ridge regression, whichever cross-validates better). Predictor gaps are "
        "filled from the country's own neighbouring years first, then by the base imputer. "
        "`cross_section`: the original year-by-year method, the year's cross-section only "
        "(slower: it imputes per request and runs the original feature selection and grid "
        "search).",
        json_schema_extra=form_field("Method"),
    )


class SplitFrame(BaseModel):
    """A matrix in pandas' split orient (`DataFrame.to_dict(orient="split")`)."""

    index: list[str]
    columns: list[str]
    data: list[list[float | None]] = Field(description="Rows in index order; null: undefined.")


class IndicatorJson(BaseModel):
    """The results keyed by year: the shape of the platform's precomputed model files, which its
    "pretrained models" panel reads."""

    data: dict[str, dict[str, float]] = Field(
        description="SIDS values by year and country: observed values as they are, plus estimates."
    )
    upperIntervals: dict[str, dict[str, float]]  # noqa: N815 - the front end's field name
    lowerIntervals: dict[str, dict[str, float]]  # noqa: N815
    featureImportances: dict[str, dict[str, float]]  # noqa: N815
    categoryImportances: dict[str, dict[str, float]]  # noqa: N815
    correlation: dict[str, SplitFrame] = Field(
        description="Correlation matrix of the chosen predictors (pandas split orient)."
    )
    rmse: dict[str, float]
    rmse_deviation: dict[str, float]


class FeatureImportancePie(BaseModel):
    """Importances summed by the indicators' category (the front end's pie chart)."""

    category: list[str]
    value: list[float]


class Prediction(BaseModel):
    """One entry per estimated SIDS gap, as parallel lists (the front end's map)."""

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    country_code: list[str] = Field(alias="Country Code", description="ISO3 codes.")
    prediction: list[float]
    lower: list[float] = Field(description="Lower ends of the 90% intervals.")
    upper: list[float] = Field(description="Upper ends of the 90% intervals.")


class PredictResponse(BaseModel):
    """Estimates for every SIDS gap of the target, with intervals and error figures.

    One computation in two views: the top-level fields are what the platform's front end reads
    after a live request; `indicatorJson` is the shape of its precomputed model files. Both carry
    the same numbers.
    """

    model_feature_names: list[str] = Field(
        description="The indicators the estimate drew on, in `indicatorJson.featureImportances` "
        "order: the chosen predictors (plus, with `method` `history`, the target itself for its "
        "own history and the indicators that guide it through the gap)."
    )
    model_feature_importance: list[float] = Field(
        description="Their importances, in the same order."
    )
    feature_importance_pie: FeatureImportancePie
    correlation: SplitFrame = Field(
        description="Correlation matrix of the chosen predictors (pandas split orient)."
    )
    prediction: Prediction
    rmse: float = Field(description="Cross-validated root-mean-square error.")
    rmse_deviation: float = Field(description="RMSE relative to the target's mean (or range).")
    indicatorJson: IndicatorJson  # noqa: N815
    dataset_version: str


class WarmRequest(BaseModel):
    """A warm-up job (endpoint `warm` of `POST /jobs`): impute the year's predictor matrix with
    the imputer, so that it is shared before the first request of the year needs it."""

    target_year: int = Field(
        description="A year of the dataset (`GET /twolvlImp/target_years`).", examples=[2019]
    )
    interpolator: Interpolator = Field(
        description="The base imputer whose matrix is computed, as `interpolator` of a predict "
        "request.",
        examples=["IterativeImputer"],
    )


class WarmResponse(BaseModel):
    """The matrix a warm-up job computed (or found shared): its year, imputer and size."""

    year: int
    imputer: Interpolator
    rows: int = Field(description="Countries of the matrix.")
    columns: int = Field(description="Indicators of the matrix: the year's candidate predictors.")
    dataset_version: str


class DimensionOption(BaseModel):
    """One dimension of an indicator."""

    label: str
    value: str
