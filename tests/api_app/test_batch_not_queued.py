"""Storage failing while a batch's messages are sent: the submission answers 503 naming the batch,
the batch shows as failed (`not_queued`), the messages already sent run nothing, and the same
batch submitted again once storage is back completes."""

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api_app import create_app
from common.core.errors import StorageUnavailable
from common.core.settings import Settings
from common.serving.runtime import Runtime
from common.serving.storage import MemoryBlobStore, MemoryQueue, Storage

BATCH = {
    "datasets": ["demo_wdi"], "first_year": 2010, "last_year": 2011, "estimators": 5,
    "model_number": 5,
    "targets": ["demo_wdi-access_to_electricity_percent_of_population",
                "demo_wdi-central_government_debt_percent_of_gdp"],
}  # fmt: skip


class QueueGoingDown(MemoryQueue):
    """A memory queue whose sends fail, as Azure's do in an outage, once `sends_before_outage`
    (when set) more have gone through."""

    def __init__(self) -> None:
        super().__init__()
        self.sends_before_outage: int | None = None

    def send(self, content: str) -> None:
        if self.sends_before_outage is not None:
            if self.sends_before_outage == 0:
                raise StorageUnavailable("job storage unavailable (queue send failed)")
            self.sends_before_outage -= 1
        super().send(content)


def _submit(api: TestClient) -> Any:
    body = {"model": "twolvlImp", "endpoint": "batch", "request": BATCH}
    return api.post("/jobs", json=body)


def test_a_batch_half_queued_fails_visibly_and_a_resubmission_completes(
    demo_settings: Settings, tmp_path: Path
) -> None:
    queue = QueueGoingDown()
    storage = Storage(MemoryBlobStore(), queue, kind="memory")
    settings = demo_settings.model_copy(
        update={"embedded_worker": False, "batch_output_dir": tmp_path}
    )
    runtime = Runtime.create(settings, storage=storage)
    with TestClient(create_app(runtime)) as api:
        queue.sends_before_outage = 1  # the first unit's message goes, the second's does not
        refused = _submit(api)
        assert refused.status_code == 503, refused.text
        detail = refused.json()["detail"]
        match = re.search(r"batch (\w+) could not be queued \(1 of 2 units were\)", detail)
        assert match, detail
        failed = api.get(f"/jobs/{match.group(1)}").json()
        assert failed["status"] == "failed" and failed["error"]["code"] == "not_queued"
        assert failed["result"] is None

        worker = runtime.queue_worker()
        assert worker.run_once()  # the message that was sent: dropped, nothing run
        assert not worker.run_once()
        assert storage.blobs.names("results/") == []
        assert storage.blobs.names(f"batches/{match.group(1)}/units/") == []

        queue.sends_before_outage = None  # storage is back
        submitted = _submit(api)
        assert submitted.status_code == 202, submitted.text
        while worker.run_once():
            pass
        done = api.get(f"/jobs/{submitted.json()['id']}").json()
        assert done["status"] == "completed" and done["progress"]["done"] == 2
