"""Cross-cutting routes: root, datasets, health, readiness, CORS and the error shape."""

from pathlib import Path

from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import SERVICE_NAME, Settings
from common.data.files import DATA_FILE
from common.serving.runtime import Runtime


def test_root_names_service_and_dataset_version(client: TestClient) -> None:
    body = client.get("/").json()
    assert body["service"] == SERVICE_NAME
    assert len(body["dataset_version"]) == 16
    assert "twolvlImp" in body["models"]


def test_datasets_lists_files_and_loaded_datasets(client: TestClient) -> None:
    body = client.get("/datasets").json()
    assert set(body["files"]) >= {"indicatorData.csv", "indicatorMeta.csv", "datasetMeta.csv"}
    codes = {dataset["code"] for dataset in body["datasets"]}
    assert codes == {"demo_wdi", "demo_gho", "demo_ilo", "demo_fao"}
    assert all(dataset["name"] and dataset["indicators"] > 0 for dataset in body["datasets"])
    assert body["years"][0] == 2005


def test_healthz_and_readyz_once_loaded(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["dataset_version"] == client.get("/").json()["dataset_version"]


def test_readyz_is_503_before_the_data_is_loaded(demo_settings: Settings) -> None:
    not_started = TestClient(
        create_app(Runtime.create(demo_settings))
    )  # no `with`: the lifespan does not run
    response = not_started.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "data_unavailable"
    assert not_started.get("/healthz").status_code == 200


def test_broken_dataset_is_reported_and_never_served(tmp_path: Path) -> None:
    (tmp_path / DATA_FILE).write_text("Country Code,Indicator Code,2000\nFJI,x,1\n")
    settings = Settings(dataset_path=tmp_path, demo_data_fallback=False)
    with TestClient(create_app(Runtime.create(settings))) as broken:
        ready = broken.get("/readyz")
        assert ready.status_code == 503
        assert "indicatorMeta.csv" in ready.json()["detail"]
        years = broken.get("/twolvlImp/target_years")
        assert years.status_code == 503
        assert broken.get("/").json()["dataset_version"] is None


def test_unknown_route_uses_the_error_shape(client: TestClient) -> None:
    response = client.get("/no/such/route")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_only_get_post_options_are_allowed(client: TestClient) -> None:
    response = client.put("/twolvlImp/predict", json={})
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_cors_allows_platform_origins_and_localhost(client: TestClient) -> None:
    for origin in ("https://data.undp.org", "http://localhost:8080"):
        preflight = client.options(
            "/twolvlImp/predict",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "PUT" not in preflight.headers["access-control-allow-methods"]


def test_cors_rejects_other_origins(client: TestClient) -> None:
    preflight = client.options(
        "/twolvlImp/predict",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_origins_come_from_settings(demo_settings: Settings) -> None:
    settings = demo_settings.model_copy(
        update={"cors_origins": ["https://example.org"], "cors_origin_regex": None}
    )
    custom = TestClient(create_app(Runtime.create(settings)))
    allowed = custom.get("/healthz", headers={"Origin": "https://example.org"})
    denied = custom.get("/healthz", headers={"Origin": "http://localhost:8080"})
    assert allowed.headers["access-control-allow-origin"] == "https://example.org"
    assert "access-control-allow-origin" not in denied.headers


def test_swagger_ui_and_openapi_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/twolvlImp/predict" in paths
    assert "/params" in paths


def test_body_that_is_not_utf8_is_a_422(client: TestClient) -> None:
    # Found by schemathesis: FastAPI answers such bodies 400 with its own shape.
    for route, content in [
        ("/twolvlImp/predict", b"\x80\x81garbage"),
        ("/jobs", b"\xc3\x28"),
        ("/survey/clustering", b"\xff\xfe\x00garbage"),  # a UTF-16 mark: decoded, then invalid
    ]:
        response = client.post(route, content=content, headers={"content-type": "application/json"})
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "invalid_parameter" and body["field"] == "body"
