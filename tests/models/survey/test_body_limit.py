"""A clustering request larger than MAX_REQUEST_BYTES is refused with 413 before it is parsed."""

from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime


def test_oversized_survey_is_refused(demo_settings: Settings) -> None:
    app = create_app(Runtime.create(demo_settings.model_copy(update={"max_request_bytes": 10_000})))
    records = [{"q": "answer " * 10, "lat": -17.0, "lon": 178.0} for _ in range(500)]
    request = {
        "data": records,
        "metadata": [{"Question Name": "q", "Type": "categorical", "Factor": "f"}],
        "factor": "f",
        "max_k": 3,
    }
    with TestClient(app) as client:
        response = client.post("/survey/clustering", json=request)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
