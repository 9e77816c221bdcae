"""A year's imputed predictor matrix is computed once per dataset version for every process that
shares the blob store: a second server reads it instead of imputing, with the same answers; a
blob that does not match is ignored and replaced; storage down means computing, not failing."""

import json
import re
from typing import Any

from azure.storage.blob import BlobServiceClient

from common.core.settings import Settings
from common.data.shared_frames import SHARED_PREFIX
from common.serving.runtime import Runtime
from common.serving.storage import MemoryBlobStore, MemoryQueue, Storage
from models.twolvlImp import history_method, options
from models.twolvlImp.schemas import Interpolator, PredictRequest
from models.twolvlImp.tasks import PREDICT
from models.twolvlImp.year_caches import IMPUTATION_CODE, imputed_year
from tests.fixtures.azurite import AzuriteServer, unique_storage_names
from tests.fixtures.servers import http, start_server

YEAR = 2011


def _counts(metrics_text: str) -> dict[str, float]:
    """sids_shared_matrices_total by source, from a /metrics page or `Metrics.render()`."""
    found = re.findall(r'^sids_shared_matrices_total\{source="(\w+)"\} (\S+)$', metrics_text, re.M)
    return {source: float(value) for source, value in found}


def _history_request(case: dict[str, Any], target: str) -> dict[str, Any]:
    """An AFS predict request with the history method: it needs the year's imputed matrix."""
    return {"target_year": YEAR, "dataset": case["dataset"], "target": target, "scheme": "AFS",
            "number_predictor": 3, "estimators": 5, "method": "history",
            "interpolator": "KNNImputer", "model": "rfr", "interval": "quantile"}  # fmt: skip


def _two_targets(demo_settings: Settings, dataset: str) -> list[str]:
    store = Runtime.create(demo_settings).datasets.load()
    assert store is not None
    return sorted(options.target_options(store, YEAR, dataset))[:2]


def test_a_second_server_reads_the_matrix_the_first_one_computed(
    azurite: AzuriteServer, demo_settings: Settings, case: dict[str, Any]
) -> None:
    names = unique_storage_names()
    environment = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "JOBS_QUEUE_NAME": names["jobs_queue_name"],
        "RESULTS_CONTAINER": names["results_container"],
        "EMBEDDED_WORKER": "false",
        "METRICS_PUBLIC": "true",
    }
    first_target, second_target = _two_targets(demo_settings, case["dataset"])
    container = BlobServiceClient.from_connection_string(
        azurite.connection_string
    ).get_container_client(names["results_container"])
    # The first server trains in a training process: that process shares what it imputes.
    first_environment = environment | {"TRAINING_PROCESSES": "1"}
    with start_server(demo_settings.dataset_path, first_environment) as first:
        status, _, _ = http(
            "POST", f"{first}/twolvlImp/predict", _history_request(case, first_target)
        )
        assert status == 200
    # The year's matrix and its neighbouring years' (`history_method.NEIGHBOURING_YEARS`): the
    # demo target has SIDS without history, whose stage A learns from those years too.
    years = 1 + 2 * history_method.NEIGHBOURING_YEARS
    shared = list(container.list_blob_names(name_starts_with=SHARED_PREFIX))
    assert len(shared) == years and any(f"/{YEAR}/KNNImputer/" in name for name in shared)

    # Another target: a result-cache miss that needs the same year's matrix.
    request = _history_request(case, second_target)
    with start_server(demo_settings.dataset_path, environment) as second:
        status, headers, body = http("POST", f"{second}/twolvlImp/predict", request)
        assert status == 200 and headers["x-cache"] == "miss"
        _, _, metrics = http("GET", f"{second}/metrics")
    assert _counts(metrics.decode()) == {"shared": float(years)}  # read, not imputed there

    # The same request where nothing is shared: the same bytes.
    alone = Runtime.create(demo_settings)
    store = alone.datasets.load()
    assert store is not None
    store.share_matrices(None)
    computed = PREDICT.compute(store, PredictRequest.model_validate(request), demo_settings)
    assert json.loads(body) == json.loads(computed)
    assert body == computed


def _runtime_over(demo_settings: Settings, blobs: MemoryBlobStore) -> Runtime:
    """A process's runtime whose blob store is `blobs` (shared with the other such runtimes)."""
    runtime = Runtime.create(demo_settings, storage=Storage(blobs, MemoryQueue(), kind="memory"))
    assert runtime.datasets.load() is not None
    return runtime


def test_a_corrupt_or_foreign_blob_is_ignored_and_replaced(demo_settings: Settings) -> None:
    blobs = MemoryBlobStore()
    writer = _runtime_over(demo_settings, blobs).datasets.require_store()
    expected = imputed_year(writer, YEAR, Interpolator.KNNImputer)
    [name] = blobs.names(SHARED_PREFIX)
    good = blobs.get(name)
    assert good is not None
    assert not imputed_year(writer, YEAR + 1, Interpolator.KNNImputer).equals(expected)
    [foreign] = [other for other in blobs.names(SHARED_PREFIX) if other != name]

    for bad in (good[: len(good) // 2], b"not a zip", blobs.get(foreign)):
        assert bad is not None
        blobs.put(name, bad)
        reader = _runtime_over(demo_settings, blobs)
        matrix = imputed_year(reader.datasets.require_store(), YEAR, Interpolator.KNNImputer)
        assert matrix.equals(expected)
        assert _counts(reader.metrics.render().decode()) == {"ignored": 1.0}
        assert blobs.get(name) == good  # replaced by the recomputed one
    reader = _runtime_over(demo_settings, blobs)
    imputed_year(reader.datasets.require_store(), YEAR, Interpolator.KNNImputer)
    assert _counts(reader.metrics.render().decode()) == {"shared": 1.0}


def test_storage_down_means_computing_not_failing(demo_settings: Settings) -> None:
    server = AzuriteServer()  # one of its own, to stop
    server.start()
    settings = demo_settings.model_copy(
        update={"azure_storage_connection_string": server.connection_string}
        | unique_storage_names()
    )
    runtime = Runtime.create(settings)
    store = runtime.datasets.load()
    assert store is not None
    server.stop()
    matrix = imputed_year(store, YEAR, Interpolator.KNNImputer)
    assert not matrix.isna().to_numpy().any()
    assert _counts(runtime.metrics.render().decode()) == {"unavailable": 1.0}
    assert imputed_year(store, YEAR, Interpolator.KNNImputer) is matrix  # the memo answers


def test_the_blob_name_carries_the_dataset_version_year_imputer_and_code(
    demo_settings: Settings,
) -> None:
    blobs = MemoryBlobStore()
    store = _runtime_over(demo_settings, blobs).datasets.require_store()
    imputed_year(store, YEAR, Interpolator.SimpleImputer)
    [name] = blobs.names(SHARED_PREFIX)
    assert name.startswith(f"{SHARED_PREFIX}{store.version}/")
    assert f"/{YEAR}/SimpleImputer/{IMPUTATION_CODE}." in name
