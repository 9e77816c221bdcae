"""The Kubernetes manifests: valid for the Kubernetes version Terraform pins, for KEDA's CRDs and
the Gateway API's, consistent with each other and with the app (routes, settings, port, models),
and the generator's CLI."""

import builtins
import copy
import importlib.util
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import kubernetes_validate
import pytest
import yaml

from api_app import create_app
from common.core.settings import Settings
from common.serving.registry import available_model_names
from common.serving.runtime import Runtime
from deployment import service_gen
from deployment.k8s import render_all
from deployment.k8s.render import TEMPLATES_DIR, render, template_variables
from tests.helpers import setting_env_names

REPO = Path(__file__).resolve().parents[2]
# ../shared next to the repository (or next to the folder of its worktrees).
KEDA_SCHEMAS = (
    next(
        (p for p in (REPO.parent / "shared", REPO.parent.parent / "shared") if p.is_dir()),
        REPO.parent / "shared",
    )
    / "schemas"
    / "keda"
)
GATEWAY_VALIDATOR = REPO / "deployment" / "validate_gateway.mjs"
GATEWAY_PACKAGE = REPO / "node_modules" / "@kubernetes-models" / "gateway-api"
TERRAFORM_VARIABLES = REPO / "deployment" / "terraform" / "variables.tf"
KEDA_KINDS = {"ScaledObject", "TriggerAuthentication"}
GATEWAY_KINDS = {"Gateway", "HTTPRoute"}
# The Secrets Store CSI driver's class: a CRD of the AKS add-on, checked structurally below.
CSI_KINDS = {"SecretProviderClass"}
CUSTOM_KINDS = KEDA_KINDS | GATEWAY_KINDS | CSI_KINDS
MODELS = available_model_names()
SERVICE_FILES = ["api.yaml", "api-no-share.yaml", *(f"model-{m.lower()}.yaml" for m in MODELS)]
WORKLOAD_FILES = [*SERVICE_FILES, "worker.yaml"]


def _pinned_kubernetes_version() -> str:
    """The minor Terraform pins the cluster to (stage 1's kubernetes_version), as x.y.0."""
    block = TERRAFORM_VARIABLES.read_text().split('variable "kubernetes_version"', 1)[1]
    (minor,) = re.findall(r'default\s*=\s*"(1\.\d+)"', block.split("\nvariable ", 1)[0])
    return f"{minor}.0"


KUBERNETES_VERSION = _pinned_kubernetes_version()

# Settings read by the Functions host, not by the app: the only names the manifests may set
# besides the app's settings (common.core.settings.Settings).
FUNCTIONS_HOST_SETTINGS = {
    "FUNCTIONS_WORKER_RUNTIME",  # which language worker the host starts
    "AzureFunctionsJobHost__Logging__Console__IsEnabled",  # host logs on stdout
    "AzureWebJobs.worker.Disabled",  # keeps the queue-triggered function off in HTTP pods
}

Manifest = dict[str, dict[str, Any]]  # one file's objects by kind


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Manifest]:
    """Every example manifest, rendered by the generator, parsed, by file name."""
    folder = tmp_path_factory.mktemp("manifests")
    return {path.name: _load(path.read_text()) for path in render_all.render_all(folder)}


def _load(text: str) -> Manifest:
    documents = [document for document in yaml.safe_load_all(text) if document]
    by_kind = {document["kind"]: document for document in documents}
    assert len(by_kind) == len(documents), "one object of each kind per file"
    return by_kind


def _pod(manifest: Manifest) -> dict[str, Any]:
    return manifest["Deployment"]["spec"]["template"]


def _container(manifest: Manifest) -> dict[str, Any]:
    (container,) = _pod(manifest)["spec"]["containers"]
    return container


def _env(manifest: Manifest) -> dict[str, str]:
    """The container's literal env values (not the ones taken from a Secret)."""
    return {
        item["name"]: item["value"]
        for item in _container(manifest).get("env", [])
        if "value" in item
    }


def _env_names(manifest: Manifest) -> set[str]:
    return {item["name"] for item in _container(manifest).get("env", [])}


def _settings_from(
    manifest: Manifest, shared: Manifest, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The app's settings in a pod: the ConfigMap, then the container's own env on top."""
    for name, value in {**shared["ConfigMap"]["data"], **_env(manifest)}.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


# Validity.


def test_every_example_is_rendered(manifests: dict[str, Manifest]) -> None:
    assert set(manifests) == {"shared.yaml", "worker.yaml", *SERVICE_FILES}


def test_the_pinned_version_is_one_kubernetes_validate_knows() -> None:
    assert KUBERNETES_VERSION in kubernetes_validate.utils.all_versions()


def test_builtin_kinds_are_valid_for_the_pinned_kubernetes(manifests: dict[str, Manifest]) -> None:
    checked = 0
    for manifest in manifests.values():
        for kind, document in manifest.items():
            if kind not in CUSTOM_KINDS:
                # strict: an unknown (misspelt) field is an error, not silently dropped.
                kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
                checked += 1
    assert checked == 4 + 4 * len(SERVICE_FILES) + 2


def _strict(schema: Any) -> Any:
    """The CRD schema with unknown fields rejected (the API server would prune them silently)."""
    if isinstance(schema, dict):
        schema = {key: _strict(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [_strict(item) for item in schema]
    return schema


def _keda_validator(kind: str) -> jsonschema.Draft202012Validator:
    if not KEDA_SCHEMAS.is_dir():
        pytest.skip(f"KEDA CRDs not found at {KEDA_SCHEMAS}")
    plural = {"ScaledObject": "scaledobjects", "TriggerAuthentication": "triggerauthentications"}
    crd = yaml.safe_load((KEDA_SCHEMAS / f"keda.sh_{plural[kind]}.yaml").read_text())
    (version,) = (v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
    # metadata is validated by the API server, not by the CRD's schema.
    schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema.Draft202012Validator(_strict(schema))


def test_keda_objects_match_the_keda_crds(manifests: dict[str, Manifest]) -> None:
    checked = 0
    for manifest in manifests.values():
        for kind in KEDA_KINDS & manifest.keys():
            assert manifest[kind]["apiVersion"] == "keda.sh/v1alpha1"
            _keda_validator(kind).validate(manifest[kind])
            checked += 1
    assert checked == len(WORKLOAD_FILES) + 1


def test_a_misspelt_keda_field_is_caught() -> None:
    scaled = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {"scaleTargetRef": {"name": "x"}, "minReplicas": 0, "triggers": []},
    }
    with pytest.raises(jsonschema.ValidationError):
        _keda_validator("ScaledObject").validate(scaled)


def _validate_gateway_objects(documents: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not GATEWAY_PACKAGE.is_dir():
        pytest.fail(
            "node or @kubernetes-models/gateway-api is missing: run `npm ci` (make test does)"
        )
    return subprocess.run(
        [node, str(GATEWAY_VALIDATOR)],
        input=json.dumps(documents),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_gateway_objects_match_the_gateway_api_crds(manifests: dict[str, Manifest]) -> None:
    documents = [
        manifest[kind]
        for manifest in manifests.values()
        for kind in GATEWAY_KINDS & manifest.keys()
    ]
    # The Gateway and its /metrics rule in shared.yaml, one route per service.
    assert len(documents) == 2 + len(SERVICE_FILES)
    result = _validate_gateway_objects(documents)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == len(documents)


def test_an_invalid_gateway_object_is_caught(manifests: dict[str, Manifest]) -> None:
    route = copy.deepcopy(manifests["api.yaml"]["HTTPRoute"])
    route["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Prefix"  # Ingress's word, not ours
    gateway = copy.deepcopy(manifests["shared.yaml"]["Gateway"])
    gateway["spec"]["listeners"][0]["port"] = 0
    result = _validate_gateway_objects([route, gateway])
    assert result.returncode == 1
    assert "invalid HTTPRoute/" in result.stdout and "invalid Gateway/" in result.stdout


# The package checks values, not names: a misspelt field would pass it, so the fields used are
# compared with the Gateway API's (v1, standard channel) here.
GATEWAY_FIELDS = {
    "spec": {"gatewayClassName", "listeners", "addresses", "infrastructure"},
    "listener": {"name", "hostname", "port", "protocol", "tls", "allowedRoutes"},
    "tls": {"mode", "certificateRefs", "options"},
    "route": {"parentRefs", "hostnames", "rules"},
    "parentRef": {"group", "kind", "namespace", "name", "sectionName", "port"},
    "rule": {"name", "matches", "filters", "backendRefs", "timeouts"},
    "backendRef": {"group", "kind", "name", "namespace", "port", "weight", "filters"},
    "timeouts": {"request", "backendRequest"},
}


def test_gateway_objects_use_only_gateway_api_fields(manifests: dict[str, Manifest]) -> None:
    gateway = manifests["shared.yaml"]["Gateway"]["spec"]
    assert set(gateway) <= GATEWAY_FIELDS["spec"]
    for listener in gateway["listeners"]:
        assert set(listener) <= GATEWAY_FIELDS["listener"]
        assert set(listener["tls"]) <= GATEWAY_FIELDS["tls"]
    routes = [m["HTTPRoute"]["spec"] for m in manifests.values() if "HTTPRoute" in m]
    for route in routes:
        assert set(route) <= GATEWAY_FIELDS["route"]
        for parent in route["parentRefs"]:
            assert set(parent) <= GATEWAY_FIELDS["parentRef"]
        for rule in route["rules"]:
            assert set(rule) <= GATEWAY_FIELDS["rule"]
            assert set(rule.get("timeouts", {})) <= GATEWAY_FIELDS["timeouts"]
            for backend in rule.get("backendRefs", []):
                assert set(backend) <= GATEWAY_FIELDS["backendRef"]


@pytest.mark.parametrize(("file_name", "arguments"), render_all.example_arguments().items())
def test_terraform_and_python_whitespace_give_the_same_documents(
    file_name: str, arguments: list[str]
) -> None:
    args = service_gen.parse_args([*arguments, "--non-interactive"])
    values = service_gen.resolve(args, interactive=False)
    template = TEMPLATES_DIR / service_gen.TEMPLATES[args.kind]
    ours = render(template, values)
    terraforms = render(template, values, keep_directive_lines=True)
    assert list(yaml.safe_load_all(ours)) == list(yaml.safe_load_all(terraforms))


# Agreement with the app.


@pytest.mark.parametrize("file_name", SERVICE_FILES)
def test_probe_paths_are_routes_of_the_app(manifests: dict[str, Manifest], file_name: str) -> None:
    manifest = manifests[file_name]
    model = _env(manifest)["MODEL_SERVICE"] or None
    routes = set(create_app(Runtime.create(Settings(model_service=model))).openapi()["paths"])
    container = _container(manifest)
    probes = [
        container[p]["httpGet"]["path"] for p in ("startupProbe", "readinessProbe", "livenessProbe")
    ]
    assert probes == ["/healthz", "/readyz", "/healthz"]
    assert set(probes) <= routes


def _dockerfile(instruction: str) -> str:
    (value,) = re.findall(rf"^{instruction}\s+(.+)$", (REPO / "Dockerfile").read_text(), re.M)
    return value.strip()


@pytest.mark.parametrize("file_name", SERVICE_FILES)
def test_container_port_is_the_functions_host_port_and_the_service_target(
    manifests: dict[str, Manifest], file_name: str
) -> None:
    manifest = manifests[file_name]
    (port,) = _container(manifest)["ports"]
    # The Functions base image listens on 80 (ASPNETCORE_URLS); the Dockerfile exposes it.
    assert port["containerPort"] == 80 == int(_dockerfile("EXPOSE"))
    (service_port,) = manifest["Service"]["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]
    (backend,) = manifest["HTTPRoute"]["spec"]["rules"][0]["backendRefs"]
    assert backend == {
        "name": manifest["Service"]["metadata"]["name"],
        "port": service_port["port"],
    }
    assert service_port["name"] == "http"


@pytest.mark.parametrize("file_name", WORKLOAD_FILES)
def test_every_env_name_is_a_setting_or_a_functions_host_setting(
    manifests: dict[str, Manifest], file_name: str
) -> None:
    names = set(manifests["shared.yaml"]["ConfigMap"]["data"]) | _env_names(manifests[file_name])
    settings = setting_env_names()
    unknown = {n for n in names if n.upper() not in settings}
    assert not unknown - FUNCTIONS_HOST_SETTINGS


def test_config_map_gives_the_app_its_production_settings(
    manifests: dict[str, Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = manifests["shared.yaml"]
    settings = _settings_from(manifests["worker.yaml"], shared, monkeypatch)
    assert settings.dataset_path == Path("/mnt/datasets")
    assert settings.demo_data_fallback is False
    assert settings.log_json is True
    assert settings.azure_storage_connection_string is None
    assert settings.azure_storage_blob_url == "https://sidsmlexampledata.blob.core.windows.net"
    assert settings.azure_storage_queue_url == "https://sidsmlexampledata.queue.core.windows.net"
    assert (settings.jobs_queue_name, settings.results_container) == ("jobs", "results")
    assert settings.warm_imputers == ["IterativeImputer"]
    Runtime.create(settings)  # the models accept it (an unknown imputer fails the start-up)


@pytest.mark.parametrize("model", MODELS)
def test_a_model_service_serves_its_model_under_its_prefix(
    manifests: dict[str, Manifest], model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = manifests[f"model-{model.lower()}.yaml"]
    settings = _settings_from(manifest, manifests["shared.yaml"], monkeypatch)
    assert settings.model_service == model
    assert [spec.name for spec in create_app(Runtime.create(settings)).state.runtime.models] == [
        model
    ]
    (match,) = manifest["HTTPRoute"]["spec"]["rules"][0]["matches"]
    assert match["path"] == {"type": "PathPrefix", "value": f"/{model}"}


def test_the_main_api_serves_every_model_under_slash(
    manifests: dict[str, Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = manifests["api.yaml"]
    settings = _settings_from(manifest, manifests["shared.yaml"], monkeypatch)
    assert [
        spec.name for spec in create_app(Runtime.create(settings)).state.runtime.models
    ] == MODELS
    (match,) = manifest["HTTPRoute"]["spec"]["rules"][0]["matches"]
    assert match["path"] == {"type": "PathPrefix", "value": "/"}


@pytest.mark.parametrize("file_name", SERVICE_FILES)
def test_http_pods_disable_the_queue_function(
    manifests: dict[str, Manifest], file_name: str
) -> None:
    assert _env(manifests[file_name])["AzureWebJobs.worker.Disabled"] == "true"
    assert (REPO / "worker" / "function.json").is_file()


def test_worker_runs_the_worker_module_from_the_app_folder(manifests: dict[str, Manifest]) -> None:
    container = _container(manifests["worker.yaml"])
    assert container["command"] == ["python", "-m", "worker"]
    assert container["workingDir"] == _dockerfile("WORKDIR")
    assert importlib.util.find_spec("worker.__main__") is not None


# Security.


@pytest.mark.parametrize("file_name", WORKLOAD_FILES)
def test_pods_run_unprivileged(manifests: dict[str, Manifest], file_name: str) -> None:
    pod = _pod(manifests[file_name])["spec"]
    context = pod["securityContext"]
    assert context["runAsNonRoot"] is True
    # The Dockerfile's user, and above the range of host users.
    assert str(context["runAsUser"]) == _dockerfile("USER").split(":")[0]
    assert context["runAsUser"] >= 10000
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    container = _container(manifests[file_name])["securityContext"]
    assert container["allowPrivilegeEscalation"] is False
    assert container["readOnlyRootFilesystem"] is True
    assert container["capabilities"] == {"drop": ["ALL"]}
    # What must be writable is an emptyDir.
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    tmp = next(
        m for m in _container(manifests[file_name])["volumeMounts"] if m["mountPath"] == "/tmp"
    )
    assert "emptyDir" in volumes[tmp["name"]]


def test_no_secret_or_account_key_is_in_the_manifests(manifests: dict[str, Manifest]) -> None:
    text = yaml.safe_dump(manifests)
    assert "Secret" not in {kind for manifest in manifests.values() for kind in manifest}
    for forbidden in ("secretRef", "nodeStageSecretRef", "AccountKey", "certificateRefs"):
        assert forbidden not in text
    assert "CONNECTION_STRING" not in text and "JobsStorage" not in text


def test_the_only_secret_is_the_admin_keys_from_key_vault(manifests: dict[str, Manifest]) -> None:
    shared = manifests["shared.yaml"]
    provider = shared["SecretProviderClass"]
    assert provider["apiVersion"] == "secrets-store.csi.x-k8s.io/v1"
    spec = provider["spec"]
    assert spec["provider"] == "azure"
    parameters = spec["parameters"]
    client_id = shared["ServiceAccount"]["metadata"]["annotations"][
        "azure.workload.identity/client-id"
    ]
    assert (parameters["usePodIdentity"], parameters["clientID"]) == ("false", client_id)
    assert parameters["keyvaultName"] and parameters["tenantId"]
    (entry,) = yaml.safe_load(parameters["objects"])["array"]
    objects = yaml.safe_load(entry)
    assert objects["objectType"] == "secret"
    (synced,) = spec["secretObjects"]
    assert synced["data"] == [{"objectName": objects["objectName"], "key": "ADMIN_API_KEYS"}]
    for file_name in SERVICE_FILES:
        manifest = manifests[file_name]
        refs = [item for item in _container(manifest)["env"] if "valueFrom" in item]
        assert refs == [
            {
                "name": "ADMIN_API_KEYS",
                "valueFrom": {
                    "secretKeyRef": {"name": synced["secretName"], "key": "ADMIN_API_KEYS"}
                },
            }
        ]
        # The driver syncs the Secret only while a pod mounts the class.
        volumes = {v["name"]: v for v in _pod(manifest)["spec"]["volumes"]}
        csi = volumes["admin-secrets"]["csi"]
        assert csi["driver"] == "secrets-store.csi.k8s.io" and csi["readOnly"] is True
        assert csi["volumeAttributes"] == {"secretProviderClass": provider["metadata"]["name"]}
        mounts = {m["name"]: m for m in _container(manifest)["volumeMounts"]}
        assert mounts["admin-secrets"]["readOnly"] is True
    # The worker has no admin route: no key.
    assert "ADMIN_API_KEYS" not in _env_names(manifests["worker.yaml"])


def test_one_identity_for_the_pods_the_share_and_keda(manifests: dict[str, Manifest]) -> None:
    shared = manifests["shared.yaml"]
    client_id = shared["ServiceAccount"]["metadata"]["annotations"][
        "azure.workload.identity/client-id"
    ]
    assert shared["PersistentVolume"]["spec"]["csi"]["volumeAttributes"]["clientID"] == client_id
    assert shared["TriggerAuthentication"]["spec"]["podIdentity"] == {
        "provider": "azure-workload",
        "identityId": client_id,
    }
    for file_name in WORKLOAD_FILES:
        pod = _pod(manifests[file_name])
        assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
        assert pod["spec"]["serviceAccountName"] == shared["ServiceAccount"]["metadata"]["name"]


# Wiring between the objects.


def test_dataset_share_is_bound_read_only(manifests: dict[str, Manifest]) -> None:
    shared = manifests["shared.yaml"]
    volume, claim = shared["PersistentVolume"], shared["PersistentVolumeClaim"]
    assert volume["spec"]["csi"]["driver"] == "file.csi.azure.com"
    assert volume["spec"]["csi"]["readOnly"] is True
    assert volume["spec"]["accessModes"] == claim["spec"]["accessModes"] == ["ReadOnlyMany"]
    assert claim["spec"]["volumeName"] == volume["metadata"]["name"]
    assert volume["spec"]["claimRef"] == {
        "namespace": claim["metadata"]["namespace"],
        "name": claim["metadata"]["name"],
    }
    assert volume["spec"]["storageClassName"] == claim["spec"]["storageClassName"] == ""


@pytest.mark.parametrize("file_name", [f for f in WORKLOAD_FILES if f != "api-no-share.yaml"])
def test_workloads_mount_the_share_read_only_at_dataset_path(
    manifests: dict[str, Manifest], file_name: str
) -> None:
    shared, manifest = manifests["shared.yaml"], manifests[file_name]
    volumes = {v["name"]: v for v in _pod(manifest)["spec"]["volumes"]}
    (mount,) = (m for m in _container(manifest)["volumeMounts"] if m["name"] == "datasets")
    assert mount["mountPath"] == shared["ConfigMap"]["data"]["DATASET_PATH"]
    assert mount["readOnly"] is True
    assert volumes["datasets"]["persistentVolumeClaim"] == {
        "claimName": shared["PersistentVolumeClaim"]["metadata"]["name"],
        "readOnly": True,
    }
    assert _env(manifest).get("DEMO_DATA_FALLBACK", "false") == "false"


def test_without_the_share_the_api_serves_the_demo_data(manifests: dict[str, Manifest]) -> None:
    manifest = manifests["api-no-share.yaml"]
    assert "datasets" not in {v["name"] for v in _pod(manifest)["spec"]["volumes"]}
    assert _env(manifest)["DEMO_DATA_FALLBACK"] == "true"


@pytest.mark.parametrize("file_name", WORKLOAD_FILES)
def test_objects_refer_to_each_other(manifests: dict[str, Manifest], file_name: str) -> None:
    manifest, shared = manifests[file_name], manifests["shared.yaml"]
    deployment = manifest["Deployment"]
    name = deployment["metadata"]["name"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selectors = [
        deployment["spec"]["selector"]["matchLabels"],
        manifest["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"],
    ]
    if "Service" in manifest:
        selectors += [
            manifest["Service"]["spec"]["selector"],
            manifest["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
        ]
    for selector in selectors:
        assert selector.items() <= labels.items()
    assert manifest["ScaledObject"]["spec"]["scaleTargetRef"] == {"name": name}
    (source,) = _container(manifest)["envFrom"]
    assert source == {"configMapRef": {"name": shared["ConfigMap"]["metadata"]["name"]}}
    namespaces = {document["metadata"]["namespace"] for document in manifest.values()}
    assert namespaces == {shared["ConfigMap"]["metadata"]["namespace"]}


@pytest.mark.parametrize("file_name", SERVICE_FILES)
def test_services_scale_on_cpu_and_roll_without_downtime(
    manifests: dict[str, Manifest], file_name: str
) -> None:
    manifest = manifests[file_name]
    spec = manifest["ScaledObject"]["spec"]
    assert spec["triggers"] == [
        {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}
    ]
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    assert "replicas" not in manifest["Deployment"]["spec"]  # KEDA owns the count
    assert manifest["Deployment"]["spec"]["strategy"]["rollingUpdate"] == {
        "maxSurge": 1,
        "maxUnavailable": 0,
    }
    assert _container(manifest)["resources"]["requests"]["cpu"] == "500m"  # the CPU trigger's base
    timeouts = manifest["HTTPRoute"]["spec"]["rules"][0]["timeouts"]
    assert int(timeouts["request"].removesuffix("s")) >= 300  # the sync route's training timeout


def test_the_gateway_serves_https_only_with_the_key_vault_certificate(
    manifests: dict[str, Manifest],
) -> None:
    shared = manifests["shared.yaml"]
    gateway = shared["Gateway"]
    assert gateway["spec"]["gatewayClassName"] == "approuting-istio"
    (listener,) = gateway["spec"]["listeners"]
    assert (listener["name"], listener["protocol"], listener["port"]) == ("https", "HTTPS", 443)
    assert listener["hostname"] == "api.sids-ml.example.org"
    assert listener["tls"]["mode"] == "Terminate"
    options = listener["tls"]["options"]
    assert re.fullmatch(
        r"https://[\w-]+\.vault\.azure\.net/certificates/[\w-]+",
        options["kubernetes.azure.com/tls-cert-keyvault-uri"],
    )
    # The add-on fetches the certificate as the app's (federated) service account.
    service_account = shared["ServiceAccount"]["metadata"]["name"]
    assert options["kubernetes.azure.com/tls-cert-service-account"] == service_account
    assert listener["allowedRoutes"] == {"namespaces": {"from": "Same"}}


@pytest.mark.parametrize("file_name", [*SERVICE_FILES, "shared.yaml"])
def test_routes_attach_to_the_https_listener(
    manifests: dict[str, Manifest], file_name: str
) -> None:
    gateway = manifests["shared.yaml"]["Gateway"]
    route = manifests[file_name]["HTTPRoute"]
    assert route["metadata"]["namespace"] == gateway["metadata"]["namespace"]
    assert route["spec"]["parentRefs"] == [
        {"name": gateway["metadata"]["name"], "sectionName": "https"}
    ]


def test_metrics_stay_inside_the_cluster(manifests: dict[str, Manifest]) -> None:
    """Pods serve /metrics without a key (METRICS_PUBLIC) to in-cluster scrapers; the Gateway's
    exact /metrics rule has no backend, so the public never reaches it."""
    (rule,) = manifests["shared.yaml"]["HTTPRoute"]["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "Exact", "value": "/metrics"}}]
    assert "backendRefs" not in rule and "filters" not in rule
    routes = set(create_app(Runtime.create(Settings())).openapi()["paths"])
    assert "/metrics" in routes
    for file_name in SERVICE_FILES:
        assert _env(manifests[file_name])["METRICS_PUBLIC"] == "true"


def test_worker_scales_to_zero_on_the_jobs_queue(manifests: dict[str, Manifest]) -> None:
    shared, spec = manifests["shared.yaml"], manifests["worker.yaml"]["ScaledObject"]["spec"]
    assert spec["minReplicaCount"] == 0
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "azure-queue"
    assert trigger["metadata"]["queueName"] == shared["ConfigMap"]["data"]["JOBS_QUEUE_NAME"]
    # The account whose queue the app uses (not necessarily the dataset share's).
    queue_url = urlparse(shared["ConfigMap"]["data"]["AZURE_STORAGE_QUEUE_URL"])
    assert trigger["metadata"]["accountName"] == queue_url.hostname.split(".")[0]
    assert trigger["authenticationRef"] == {
        "name": shared["TriggerAuthentication"]["metadata"]["name"]
    }
    # Long enough for a job in hand to finish (the Functions host allows 10 minutes).
    assert _pod(manifests["worker.yaml"])["spec"]["terminationGracePeriodSeconds"] >= 600


# The generator's CLI.


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdin is not a terminal, and nothing may be asked."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    def refuse(prompt: str = "") -> str:
        raise AssertionError(f"asked {prompt!r} without a terminal")

    monkeypatch.setattr(builtins, "input", refuse)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _answers(monkeypatch: pytest.MonkeyPatch, answers: dict[str, str]) -> list[str]:
    """A terminal on stdin answering by flag; returns the prompts asked."""
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin", _Terminal())

    def answer(prompt: str = "") -> str:
        asked.append(prompt)
        (flag,) = (flag for flag in answers if prompt.startswith(flag + " "))
        return answers[flag]

    monkeypatch.setattr(builtins, "input", answer)
    return asked


def test_cli_writes_a_model_service_non_interactively(tmp_path: Path, no_terminal: None) -> None:
    output = tmp_path / "svc.yaml"
    model = MODELS[0]
    arguments = ["--model", model, "--image", "r.io/app:abc123", "--namespace", "prod"]
    assert service_gen.main([*arguments, "--max-replicas", "6", "--output", str(output)]) == 0
    manifest = _load(output.read_text())
    assert set(manifest) == {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ScaledObject",
        "HTTPRoute",
    }
    assert {document["metadata"]["namespace"] for document in manifest.values()} == {"prod"}
    assert manifest["Deployment"]["metadata"]["name"] == f"sids-ml-backend-{model.lower()}"
    assert _container(manifest)["image"] == "r.io/app:abc123"
    assert _env(manifest)["MODEL_SERVICE"] == model
    assert manifest["ScaledObject"]["spec"]["maxReplicaCount"] == 6


def test_cli_writes_to_stdout(capsys: pytest.CaptureFixture[str], no_terminal: None) -> None:
    assert (
        service_gen.main(["--kind", "api", "--image", "r.io/app:abc123", "--non-interactive"]) == 0
    )
    manifest = _load(capsys.readouterr().out)
    assert _env(manifest)["MODEL_SERVICE"] == ""


@pytest.mark.parametrize("non_interactive", [True, False])
def test_missing_flags_are_named_without_a_terminal(
    capsys: pytest.CaptureFixture[str], no_terminal: None, non_interactive: bool
) -> None:
    arguments = ["--kind", "worker"] + (["--non-interactive"] if non_interactive else [])
    assert service_gen.main(arguments) == 2
    assert "missing --image, --storage-account" in capsys.readouterr().err


def test_shared_resources_need_every_account_detail(
    capsys: pytest.CaptureFixture[str], no_terminal: None
) -> None:
    assert service_gen.main(["--kind", "shared", "--non-interactive"]) == 2
    assert (
        "missing --storage-account, --identity-client-id, --tenant-id, --key-vault-name, "
        "--host-name, --tls-certificate-uri, --storage-resource-group, --dataset-share, "
        "--dataset-share-size-gi, --blob-url, --queue-url"
    ) in capsys.readouterr().err


def test_non_interactive_never_asks_even_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _answers(monkeypatch, {})
    assert service_gen.main(["--image", "r.io/app:abc123", "--non-interactive"]) == 2
    assert asked == []
    assert "missing --model" in capsys.readouterr().err


def test_only_missing_values_are_asked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = MODELS[-1]
    asked = _answers(monkeypatch, {"--model": model})
    assert service_gen.main(["--image", "r.io/app:abc123", "--cpu-limit", "3"]) == 0
    assert len(asked) == 1 and asked[0].startswith("--model ")
    manifest = _load(capsys.readouterr().out)
    assert _env(manifest)["MODEL_SERVICE"] == model
    assert _container(manifest)["resources"]["limits"]["cpu"] == "3"


def test_every_missing_value_is_asked_in_order(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _answers(monkeypatch, {"--image": "r.io/app:abc123", "--storage-account": "acct01"})
    assert service_gen.main(["--kind", "worker"]) == 0
    assert [prompt.split()[0] for prompt in asked] == ["--image", "--storage-account"]
    assert 'accountName: "acct01"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--model", "nosuch", "--image", "r.io/a:1"],
            "--model: 'nosuch' is not a model; available: ",
        ),
        (["--model", MODELS[0], "--image", "r.io/app"], "needs a tag (the commit SHA) or a digest"),
        (["--model", MODELS[0], "--image", "r.io/app:latest"], "needs a tag"),
        (["--model", MODELS[0], "--image", "r.io/a:1", "--name", "Bad_Name"], "--name: 'Bad_Name'"),
        (["--model", MODELS[0], "--image", "r.io/a:1", "--cpu-request", "lots"], "CPU quantity"),
        (["--model", MODELS[0], "--image", "r.io/a:1", "--min-replicas", "0"], "at least 1"),
        (
            [
                "--model",
                MODELS[0],
                "--image",
                "r.io/a:1",
                "--min-replicas",
                "5",
                "--max-replicas",
                "2",
            ],
            "--max-replicas must be at least --min-replicas",
        ),
        (
            [
                "--model",
                MODELS[0],
                "--image",
                "r.io/a:1",
                "--max-surge",
                "0",
                "--max-unavailable",
                "0%",
            ],
            "cannot both be 0",
        ),
        (["--kind", "worker", "--model", MODELS[0]], "not used by --kind worker: --model"),
        (["--kind", "shared", "--no-shared-volume"], "not used by --kind shared: --shared-volume"),
    ],
)
def test_invalid_flags_are_refused_with_the_reason(
    capsys: pytest.CaptureFixture[str], no_terminal: None, arguments: list[str], message: str
) -> None:
    assert service_gen.main([*arguments, "--non-interactive"]) == 2
    assert message in capsys.readouterr().err


def test_generator_values_are_exactly_the_template_variables() -> None:
    for arguments in render_all.example_arguments().values():
        args = service_gen.parse_args([*arguments, "--non-interactive"])
        values = service_gen.resolve(args, interactive=False)
        assert set(values) == template_variables(TEMPLATES_DIR / service_gen.TEMPLATES[args.kind])
