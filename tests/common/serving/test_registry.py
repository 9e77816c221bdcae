"""Model discovery and MODEL_SERVICE."""

import pytest
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.registry import (
    UnknownModel,
    available_model_names,
    discover_models,
    model_name,
)
from common.serving.runtime import Runtime


def test_every_model_folder_is_discovered() -> None:
    specs = discover_models()
    assert [spec.name for spec in specs] == available_model_names()
    assert "twolvlImp" in available_model_names()


def test_model_service_mounts_only_that_model(demo_settings: Settings) -> None:
    settings = demo_settings.model_copy(update={"model_service": "twolvlImp"})
    app = create_app(Runtime.create(settings))
    assert [model.name for model in app.state.runtime.models] == ["twolvlImp"]
    with TestClient(app) as client:
        assert [form["model"] for form in client.get("/params").json()] == ["twolvlImp"]


def test_unknown_model_service_fails_start_up(demo_settings: Settings) -> None:
    settings = demo_settings.model_copy(update={"model_service": "nope"})
    with pytest.raises(UnknownModel, match="twolvlImp"):
        create_app(Runtime.create(settings))


def test_a_models_name_comes_from_its_package() -> None:
    for spec in discover_models():
        assert all(task.model == spec.name for task in spec.tasks)
    assert model_name("models.twolvlImp.options") == "twolvlImp"
    with pytest.raises(ValueError, match="not a module of a model package"):
        model_name("common.serving.registry")
