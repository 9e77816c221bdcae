"""Model discovery: every package under `models/` is a model exposing `MODEL`, a `ModelSpec`.

Adding a model means adding one folder whose `__init__.py` defines `MODEL`; the app mounts its
router under `/<name>` and `/params` describes its main endpoint. A package that fails to import
fails the start-up loudly instead of vanishing from the API.

The model packages sit above this layer: they are found by the package's name (`MODELS_PACKAGE`),
never imported here by a statement, so serving code does not depend on any model.
"""

import importlib
import pkgutil
from dataclasses import dataclass

from fastapi import APIRouter

from common.serving.batch import BatchKind
from common.serving.tasks import Task, Warmup

MODELS_PACKAGE = "models"


@dataclass(frozen=True)
class ModelSpec:
    """What the app needs to know about one model."""

    name: str
    label: str
    router: APIRouter
    main_endpoint: str
    main_method: str = "POST"
    tasks: tuple[Task, ...] = ()  # endpoints that train: cached, limited, and runnable as jobs
    batches: tuple[BatchKind, ...] = ()  # batch runs of those tasks, submitted as jobs
    warmups: tuple[Warmup, ...] = ()  # jobs submitted when a new dataset version is loaded

    @property
    def prefix(self) -> str:
        return f"/{self.name}"


def model_name(module: str) -> str:
    """The name of the model a module belongs to, from its package: `model_name(__name__)` in
    `models/twolvlImp/options.py` is "twolvlImp". The one source of a model's name (its route
    prefix, its tasks' and its memo keys' namespace)."""
    package, _, rest = module.partition(".")
    if package != MODELS_PACKAGE or not rest:
        raise ValueError(f"{module!r} is not a module of a model package")
    return rest.split(".")[0]


class UnknownModel(ValueError):
    """MODEL_SERVICE names a model that does not exist."""


def available_model_names() -> list[str]:
    """The names of the model packages, sorted."""
    package = importlib.import_module(MODELS_PACKAGE)
    return sorted(module.name for module in pkgutil.iter_modules(package.__path__) if module.ispkg)


def discover_models(only: str | None = None) -> list[ModelSpec]:
    """Import the model packages (or only the one named) and return their specs."""
    names = available_model_names()
    if only is not None:
        if only not in names:
            raise UnknownModel(f"MODEL_SERVICE={only!r} is not a model; available: {names}")
        names = [only]
    return [_load_spec(name) for name in names]


def _load_spec(name: str) -> ModelSpec:
    module = importlib.import_module(f"{MODELS_PACKAGE}.{name}")
    spec = getattr(module, "MODEL", None)
    if not isinstance(spec, ModelSpec) or spec.name != name:
        raise TypeError(
            f"models/{name}/__init__.py must define MODEL = ModelSpec(name={name!r}, ...)"
        )
    return spec
