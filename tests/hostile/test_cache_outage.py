"""With shared storage down, the in-process cache still holds results: identical requests are
answered from it instead of training again."""

import contextlib
from typing import Any

from fastapi.testclient import TestClient

from api_app import create_app
from common.core.errors import StorageUnavailable
from common.core.settings import Settings
from common.serving.cache import ResultCache
from common.serving.runtime import Runtime
from common.serving.storage import open_storage
from tests.fixtures.azurite import AzuriteServer, unique_storage_names


def test_a_result_put_during_an_outage_stays_in_the_local_cache(
    demo_settings: Settings, azurite: AzuriteServer
) -> None:
    server = AzuriteServer()  # one of its own, to stop
    server.start()
    settings = demo_settings.model_copy(
        update={"azure_storage_connection_string": server.connection_string}
        | unique_storage_names()
    )
    storage = open_storage(settings)
    cache = ResultCache(storage.blobs, max_entries=8)
    cache.put("before", b"1")  # storage up: shared and local
    server.stop()
    with contextlib.suppress(StorageUnavailable):
        cache.put("during", b"2")  # the shared copy is lost, the local one must not be
    assert cache.get("during") == b"2"
    assert cache.get("before") == b"1"


def test_identical_requests_do_not_train_again_while_storage_is_down(
    demo_settings: Settings, manual_request: dict[str, Any]
) -> None:
    server = AzuriteServer()
    server.start()
    settings = demo_settings.model_copy(
        update={"azure_storage_connection_string": server.connection_string}
        | unique_storage_names()
    )
    request = {**manual_request, "estimators": 17}
    try:
        with TestClient(create_app(Runtime.create(settings))) as api:
            server.stop()
            first = api.post("/twolvlImp/predict", json=request)
            assert first.status_code == 200 and first.headers["x-cache"] == "miss"
            again = api.post("/twolvlImp/predict", json=request)
            assert again.status_code == 200 and again.headers["x-cache"] == "hit"
            assert again.content == first.content
    finally:
        server.stop()
