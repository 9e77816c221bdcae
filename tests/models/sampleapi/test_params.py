"""/params describes the sample model's form."""

from fastapi.testclient import TestClient

from models.sampleapi.schemas import CountryGroup


def test_sample_form_lists_its_inputs(client: TestClient) -> None:
    form = next(form for form in client.get("/params").json() if form["model"] == "sampleapi")
    assert (form["label"], form["endpoint"], form["method"]) == (
        "Sample API",
        "/sampleapi/summary",
        "POST",
    )
    inputs = {item["parameter"]: item for item in form["inputs"]}
    assert inputs["indicator"]["req_endpoint"] == {
        "endpoint": "/indicators",
        "method": "GET",
        "inputs": [],
    }
    assert inputs["indicator"]["conditions"] == inputs["year"]["conditions"] == [{"required": True}]
    assert inputs["group"]["type"] == "enum"
    assert inputs["group"]["values"] == CountryGroup.choices()
    assert inputs["group"].get("conditions") is None
