"""/params describes the survey clustering form."""

from fastapi.testclient import TestClient


def test_survey_form_lists_its_inputs(client: TestClient) -> None:
    form = next(form for form in client.get("/params").json() if form["model"] == "survey")
    assert form["label"] == "Survey Clustering"
    assert (form["endpoint"], form["method"]) == ("/survey/clustering", "POST")
    types = {item["parameter"]: item["type"] for item in form["inputs"]}
    assert types == {"data": "array", "metadata": "array", "factor": "string", "max_k": "integer"}
    assert all(
        item["label"] and item["conditions"] == [{"required": True}] for item in form["inputs"]
    )


def test_metadata_schema_uses_the_front_end_keys_and_type_labels(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["Question"]["properties"]) == {"Question Name", "Type", "Factor"}
    assert schemas["QuestionType"]["enum"] == [
        "categorical",
        "continuous",
        "GPS latitude",
        "GPS longitude",
    ]
    assert schemas["QuestionType"]["x-enum-labels"]
