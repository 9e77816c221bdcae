"""Batch runs of predict: the platform's precomputed model files, one per dataset and target.

A batch (`POST /jobs` with model `twolvlImp`, endpoint `batch`) runs the predict task for each
target of the datasets in each year of a range and writes, in the data API's layout,
`model{N}/{dataset}/{target}.json` (the predict answers' `indicatorJson` merged over the years)
and `ML Model Metadata.json` (an entry "Model {N}"). The fan-out, retries, progress and output
are `common.serving.batch`'s; the command line (`python -m models.twolvlImp.batch`) runs the
same code with a local queue and worker processes.
"""

import json
import re
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from common.core.errors import InvalidParameter, invalid_choice
from common.data.datasets import IndicatorStore
from common.serving.batch import PREFIX_PATTERN, UnitPlan, check_prefix
from common.serving.tasks import Task
from models.twolvlImp import options
from models.twolvlImp.schemas import Interpolator, Interval, Method, Model, PredictRequest, Scheme
from models.twolvlImp.tasks import MODEL_NAME, PREDICT

METADATA_FILE = "ML Model Metadata.json"
# The keys of indicatorJson the platform's files hold (the rest is the live answer's only).
FILE_KEYS = (
    "data",
    "upperIntervals",
    "lowerIntervals",
    "featureImportances",
    "categoryImportances",
)
APPROACH = {Method.history: "history and cross-section", Method.cross_section: "year-by-year"}
BATCH_SCHEMES = (Scheme.AFS, Scheme.PCA)  # MANUAL predictors are per target: not for a batch
# The predict request's settings a batch request carries (the same names and meanings).
PREDICT_SETTINGS = (
    "scheme", "number_predictor", "interpolator", "model", "estimators", "interval", "method",
)  # fmt: skip


class ModelText(BaseModel):
    """The text of the model's entry in `ML Model Metadata.json` (the front end shows it)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description='"Model Name"; default: the regressor\'s name.')
    description: str = Field("", description='"Model Description".')
    advantage: str = Field("", description='"Model Advantage".')
    drawback: str = Field("", description='"Model Drawback".')


class BatchRequest(BaseModel):
    """Every target of the datasets (or the ones listed) in every year of the range, at one set
    of predict settings (default: the front end's), written as model `model_number`."""

    model_config = ConfigDict(extra="forbid")

    datasets: list[str] = Field(
        min_length=1, description="Dataset codes (`dataset`: one code is accepted too)."
    )
    first_year: int = Field(description="First year of the range (a year of the data).")
    last_year: int = Field(description="Last year of the range, inclusive.")
    targets: list[str] | None = Field(
        None,
        min_length=1,
        description="Indicator codes of the datasets; default: every target a year offers, in "
        "the years it offers it. A listed target is run in every year, and a year that does "
        "not offer it is reported as failed.",
    )
    scheme: Scheme = Field(Scheme.AFS, description="AFS or PCA (MANUAL is per target).")
    number_predictor: int = Field(10, ge=1)
    interpolator: Interpolator = Interpolator.KNNImputer
    model: Model = Model.rfr
    estimators: int = Field(100, ge=1, description="Trees, up to MAX_ESTIMATORS.")
    interval: Interval = Interval.quantile
    method: Method = Method.history
    model_number: int = Field(ge=1, le=99, description='N of `model{N}/` and of "Model N".')
    metadata: ModelText = Field(default_factory=ModelText)
    output_prefix: str = Field(
        "",
        pattern=PREFIX_PATTERN,
        description='Folder of the output in the batch container, ending in "/" (e.g. '
        '"ml/"); "" for its root.',
    )

    @model_validator(mode="before")
    @classmethod
    def _one_dataset(cls, data: Any) -> Any:
        """`"dataset": "wdi"` for `"datasets": ["wdi"]`."""
        if isinstance(data, dict) and "dataset" in data and "datasets" not in data:
            data = {**data, "datasets": [data["dataset"]]}
            del data["dataset"]
        return data

    _safe_prefix = field_validator("output_prefix")(check_prefix)

    @field_validator("scheme")
    @classmethod
    def _automatic_scheme(cls, scheme: Scheme) -> Scheme:
        if scheme not in BATCH_SCHEMES:
            allowed = ", ".join(s.value for s in BATCH_SCHEMES)
            raise ValueError(f"a batch chooses predictors automatically: use one of {allowed}")
        return scheme

    @model_validator(mode="after")
    def _ordered_years(self) -> "BatchRequest":
        if self.first_year > self.last_year:
            raise ValueError("first_year must not be after last_year")
        return self

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))


class TwoLevelBatch:
    """The batch kind of the predict task (see `common.serving.batch.BatchKind`)."""

    model: str = MODEL_NAME
    endpoint: str = "batch"
    request_model: type[BaseModel] = BatchRequest
    task: Task = PREDICT

    def plan(self, store: IndicatorStore, request: BatchRequest) -> list[UnitPlan]:
        """One unit per dataset and target: the target and its years."""
        for name, year in (("first_year", request.first_year), ("last_year", request.last_year)):
            if year not in store.years:
                raise invalid_choice(name, year, store.years)
        offered = {year: options.dataset_options(store, year) for year in request.years}
        allowed = sorted({code for datasets in offered.values() for code in datasets})
        for dataset in request.datasets:
            if dataset not in allowed:
                raise invalid_choice("datasets", dataset, allowed)
        units = []
        for dataset in request.datasets:
            for target, years in self._targets(store, request, dataset).items():
                units.append(
                    UnitPlan(
                        name=f"{dataset}/{target}",
                        path=f"model{request.model_number}/{dataset}/{target}.json",
                        params={"dataset": dataset, "target": target, "years": years},
                    )
                )
        if not units:
            raise InvalidParameter("the batch has no targets in that range", field="targets")
        return units

    @staticmethod
    def _targets(
        store: IndicatorStore, request: BatchRequest, dataset: str
    ) -> dict[str, list[int]]:
        """target -> the years it runs in."""
        if request.targets is None:
            by_target: dict[str, list[int]] = {}
            for year in request.years:
                for target in options.target_options(store, year, dataset):
                    by_target.setdefault(target, []).append(year)
            return dict(sorted(by_target.items()))
        meta = store.indicator_meta
        in_datasets = meta.index[meta["Dataset"].isin(request.datasets)]
        for target in request.targets:
            if target not in in_datasets or not re.fullmatch(r"[^/\\]+", target):
                raise invalid_choice("targets", target, list(in_datasets))
        of_dataset = set(meta.index[meta["Dataset"] == dataset])
        return {target: request.years for target in request.targets if target in of_dataset}

    def steps(self, request: BatchRequest, unit: UnitPlan) -> list[tuple[str, BaseModel]]:
        """One predict request per year of the unit."""
        settings = request.model_dump(include=set(PREDICT_SETTINGS))
        return [
            (
                str(year),
                PredictRequest(
                    target_year=year,
                    dataset=unit.params["dataset"],
                    target=unit.params["target"],
                    **settings,
                ),
            )
            for year in unit.params["years"]
        ]

    def combine(self, request: BatchRequest, unit: UnitPlan, results: dict[str, bytes]) -> bytes:
        """The platform's file: each answer's `indicatorJson` merged over the years."""
        merged: dict[str, dict[str, Any]] = {key: {} for key in FILE_KEYS}
        for year in sorted(results, key=int):
            answer = json.loads(results[year])["indicatorJson"]
            for key in FILE_KEYS:
                merged[key].update(answer[key])
        return json.dumps(merged).encode()

    def describe(self, request: BatchRequest, existing: bytes | None) -> tuple[str, bytes]:
        """`ML Model Metadata.json` with this model's entry added (others kept as they are)."""
        document = json.loads(existing) if existing else {}
        document[f"Model {request.model_number}"] = model_entry(request)
        return METADATA_FILE, json.dumps(document, indent=4).encode()


def model_entry(request: BatchRequest) -> dict[str, str]:
    """The model's entry in `ML Model Metadata.json`, with the platform's keys."""
    parameters = (
        f"n_estimators={request.estimators}, scheme={request.scheme.value}, "
        f"number_predictor={request.number_predictor}, "
        f"initial_strategy={request.interpolator.value}, interval={request.interval.value}"
    )
    return {
        "Modelling Approach": APPROACH[request.method],
        "Model Name": request.metadata.name or request.model.label,
        "Parameters": parameters,
        "Model Description": request.metadata.description,
        "Model Advantage": request.metadata.advantage,
        "Model Drawback": request.metadata.drawback,
    }


BATCH = TwoLevelBatch()
