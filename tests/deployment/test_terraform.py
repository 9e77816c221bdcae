"""Offline checks of the Terraform in deployment/terraform.

`terraform` itself cannot be installed here: its binary is downloaded from
releases.hashicorp.com, outside the package registries this project may use, so neither
`terraform validate` nor a plan runs. Instead these tests parse every file with python-hcl2 and
check what the deployment depends on: the provider pins, documented and typed variables, the
templates rendered by templatefile() and the variables passed to them (against the contract
shared with deployment/k8s/render.py and deployment/service_gen.py), that nothing sets a storage
key or a registry admin user (but for the one documented share mount), the pinned Kubernetes
version, the autoscaler bounds left to the CLI, KEDA, workload identity, the least-privileged
deploy identity, the Key Vault secrets and the Flex Consumption settings. checkov
(`checkov -d deployment/terraform --framework terraform`) runs separately.
"""

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from deployment import service_gen
from deployment.k8s.render import TEMPLATES_DIR, render
from tests.deployment.template_contract import CONTRACT

TERRAFORM = Path(__file__).resolve().parents[2] / "deployment" / "terraform"
STAGE_1 = TERRAFORM
STAGE_2 = TERRAFORM / "app"
AZURE_MODULE = TERRAFORM / "modules" / "sids_ml"
APP_MODULE = TERRAFORM / "modules" / "sids_ml_app"
DIRECTORIES = (STAGE_1, STAGE_2, AZURE_MODULE, APP_MODULE)
TF_FILES = sorted(path for directory in DIRECTORIES for path in directory.glob("*.tf"))


# Values that would put a storage credential into configuration or state.
KEY_ATTRIBUTES = {"storage_account_access_key", "access_key", "storage_key_vault_secret_id"}
KEY_REFERENCES = re.compile(
    r"(primary|secondary)_(access_key|connection_string|blob_connection_string)|AccountKey=|SharedAccessSignature="
)


# Parsing helpers. python-hcl2 keeps string literals quoted ("\"~4\""), wraps expressions in
# ${...}, and returns blocks as lists of dicts marked __is_block__.


@cache
def parse(path: Path) -> dict[str, Any]:
    with path.open() as stream:
        return hcl2.load(stream)


def unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def entries(block: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The labelled entries of a parsed block, without python-hcl2's metadata keys."""
    for key, value in block.items():
        if not key.startswith("__"):
            yield unquote(key), value


def declared(directory: Path, kind: str) -> dict[str, dict[str, Any]]:
    """variable / output blocks of a directory, by name."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in parse(path).get(kind, []):
            found.update(entries(block))
    return found


def resources(directory: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of every resource of a directory."""
    for path in sorted(directory.glob("*.tf")):
        for block in parse(path).get("resource", []):
            for kind, named in entries(block):
                for name, body in entries(named):
                    yield kind, name, body


def resource(directory: Path, kind: str, name: str) -> dict[str, Any]:
    return next(body for k, n, body in resources(directory) if (k, n) == (kind, name))


def first(body: dict[str, Any], block: str) -> dict[str, Any]:
    return body[block][0]


def module_locals(directory: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in parse(path).get("locals", []):
            found.update(entries(block))
    return found


def strings(value: Any) -> Iterator[str]:
    """Every string inside a parsed value, comments excluded."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("__comments__", "__inline_comments__"):
                yield key
                yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def pin(directory: Path, provider: str) -> str:
    terraform = parse(directory / "versions.tf")["terraform"][0]
    providers = terraform["required_providers"][0]
    return unquote(providers[provider]["version"])


def object_keys(expression: str) -> set[str]:
    """Attribute names of the object literal(s) in an HCL expression string."""
    return set(re.findall(r"[{,]\s*(\w+) = ", expression))


# Every file parses.


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_terraform_file_parses(path: Path) -> None:
    assert isinstance(parse(path), dict)


def test_there_are_two_roots_and_two_modules() -> None:
    assert [d for d in DIRECTORIES if (d / "versions.tf").exists()] == list(DIRECTORIES)
    assert len(TF_FILES) >= 20


# Providers.


def test_stage_1_pins_azurerm_4_to_a_minor_version() -> None:
    assert re.fullmatch(r"~> 4\.\d+", pin(STAGE_1, "azurerm"))


def test_stage_2_pins_the_kubernetes_provider_to_a_minor_version() -> None:
    assert re.fullmatch(r"~> 3\.\d+", pin(STAGE_2, "kubernetes"))


def test_module_ranges_admit_the_roots_pins() -> None:
    """Each module's lower bound is at most the root's pin and its upper bound the next major."""
    for module, root, provider in (
        (AZURE_MODULE, STAGE_1, "azurerm"),
        (APP_MODULE, STAGE_2, "kubernetes"),
    ):
        module_range = re.fullmatch(r">= ([\d.]+), < ([\d.]+)", pin(module, provider))
        root_pin = re.fullmatch(r"~> (\d+)\.(\d+)", pin(root, provider))
        assert module_range, f"{module}: {provider} is not pinned to a range"
        assert root_pin, f"{root}: {provider} is not pinned with ~>"
        low, high = module_range.groups()
        pinned = root_pin.groups()
        assert tuple(map(int, low.split(".")[:2])) <= tuple(map(int, pinned))
        assert int(high.split(".")[0]) == int(pinned[0]) + 1


def test_roots_keep_state_in_an_azurerm_backend() -> None:
    for root in (STAGE_1, STAGE_2):
        backend = parse(root / "versions.tf")["terraform"][0]["backend"][0]
        assert [name for name, _ in entries(backend)] == ["azurerm"]


def test_azurerm_uses_entra_id_for_storage_and_arm_for_its_children() -> None:
    provider = dict(entries(parse(STAGE_1 / "providers.tf")["provider"][0]))["azurerm"]
    assert provider["storage_use_azuread"] is True
    storage = first(first(provider, "features"), "storage")
    assert storage["data_plane_available"] is False


# Variables.


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda d: str(d.relative_to(TERRAFORM)))
def test_every_variable_has_a_description_and_a_type(directory: Path) -> None:
    variables = declared(directory, "variable")
    assert variables
    for name, body in variables.items():
        assert len(unquote(body.get("description", ""))) > 10, name
        assert body.get("type"), name


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda d: str(d.relative_to(TERRAFORM)))
def test_every_output_has_a_description(directory: Path) -> None:
    outputs = declared(directory, "output")
    assert outputs
    for name, body in outputs.items():
        assert len(unquote(body.get("description", ""))) > 10, name


@pytest.mark.parametrize("root", (STAGE_1, STAGE_2), ids=("stage1", "stage2"))
def test_root_variables_are_validated_unless_free_form(root: Path) -> None:
    """Every input an operator types is checked, except flags and free-form tags."""
    free_form = {"bool", "${map(string)}"}
    for name, body in declared(root, "variable").items():
        if body["type"] not in free_form:
            assert body.get("validation"), name


def test_autoscaler_bounds_are_checked_against_each_other() -> None:
    variables = declared(STAGE_1, "variable")
    condition = variables["node_max_count"]["validation"][0]["condition"]
    assert "var.node_min_count" in condition
    assert variables["node_min_count"]["default"] <= variables["node_max_count"]["default"]


def test_modules_get_every_required_input_and_only_declared_ones() -> None:
    for root, module_name, module_dir in (
        (STAGE_1, "sids_ml", AZURE_MODULE),
        (STAGE_2, "sids_ml_app", APP_MODULE),
    ):
        call = dict(entries(parse(root / "main.tf")["module"][0]))[module_name]
        arguments = {name for name, _ in entries(call)} - {"source"}
        inputs = declared(module_dir, "variable")
        assert arguments <= inputs.keys()
        assert {name for name, body in inputs.items() if "default" not in body} <= arguments


def test_tfvars_examples_set_declared_variables_and_every_required_one() -> None:
    for root in (STAGE_1, STAGE_2):
        example = {name for name, _ in entries(parse(root / "terraform.tfvars.example"))}
        variables = declared(root, "variable")
        assert example <= variables.keys()
        assert {name for name, body in variables.items() if "default" not in body} <= example


# Templates: the same files and variables as the Python generator.


def templatefile_calls() -> list[tuple[Path, set[str]]]:
    """(template, names passed) of every templatefile() call of the manifests module."""
    found = module_locals(APP_MODULE)
    prefix = unquote(found["templates"]).replace("${path.module}", str(APP_MODULE))
    calls = []
    for expression in strings(found):
        for path, argument in re.findall(r'templatefile\("([^"]+)", ([\w.]+)\)', expression):
            template = Path(path.replace("${local.templates}", prefix)).resolve()
            if argument.startswith("local."):
                values = found[argument.removeprefix("local.")]
            else:  # the iterator of a for expression over a local map of objects
                loop = re.search(rf"for \w+, {argument} in local\.(\w+)", expression)
                assert loop, f"{argument}: neither a local nor a for expression's iterator"
                values = found[loop[1]]
            names = object_keys(values) if isinstance(values, str) else dict(entries(values))
            calls.append((template, set(names)))
    return calls


def template_variables(path: Path) -> set[str]:
    text = path.read_text()
    return set(re.findall(r"\$\{\s*([A-Za-z_]\w*)\s*\}", text)) | set(
        re.findall(r"%\{\s*if\s+([A-Za-z_]\w*)\s*\}", text)
    )


def test_templatefile_renders_each_shared_template_once() -> None:
    templates = sorted(path.name for path, _ in templatefile_calls())
    assert templates == ["service.yaml", "shared.yaml", "worker.yaml"]
    for path, _ in templatefile_calls():
        assert path.parent == TEMPLATES_DIR.resolve()
        assert path.is_file()


def test_templatefile_gets_exactly_the_contract_variables() -> None:
    for path, names in templatefile_calls():
        assert names == CONTRACT[path.name], path.name
        # templatefile() fails on a variable the template uses and is not given.
        assert template_variables(path) <= names, path.name


# The manifests Terraform applies, rendered as templatefile() renders them.


def split_documents(text: str) -> list[dict[str, Any]]:
    """The document split of modules/sids_ml_app/main.tf, in Python."""
    normalized = re.sub(r"(?m)^---[ \t]*$", "---", text)
    parts = f"\n{normalized}\n".split("\n---\n")
    return [yaml.safe_load(part) for part in parts if re.search(r"(?m)^[A-Za-z]", part)]


def sample_values() -> dict[str, dict[str, Any]]:
    common = {"namespace": "sids-ml-backend", "config_map": "c", "dataset_claim": "d"}
    sized = {"cpu_request": "1", "cpu_limit": "2", "memory_request": "1Gi", "memory_limit": "2Gi"}
    image = "acrsidsmlprod.azurecr.io/sids-ml-backend:0123abc"
    return {
        "shared.yaml": common
        | {
            "app_name": "sids-ml-backend",
            "service_account": "sids-ml-backend",
            "identity_client_id": "00000000-0000-0000-0000-000000000000",
            "storage_account": "stsidsmlproddset",
            "storage_resource_group": "rg-sidsml-prod",
            "dataset_share": "datasets",
            "dataset_share_size_gi": 10,
            "blob_url": "https://stsidsmlproddata.blob.core.windows.net",
            "queue_url": "https://stsidsmlproddata.queue.core.windows.net",
            "jobs_queue": "jobs",
            "results_container": "results",
            "batch_container": "ml-models",
            "gateway": "sids-ml-backend",
            "admin_secret": "sids-ml-backend-admin",
            "tenant_id": "11111111-1111-1111-1111-111111111111",
            "key_vault_name": "kv-sidsml-prod",
            "admin_keys_secret": "admin-api-keys",
            "host_name": "api.sids.example.org",
            "tls_certificate_uri": "https://kv-sidsml-prod.vault.azure.net/certificates/api-tls",
        },
        "service.yaml": common
        | sized
        | {
            "name": "sids-ml-backend",
            "image": image,
            "model_service": "",
            "min_replicas": 2,
            "max_replicas": 4,
            "max_surge": "1",
            "max_unavailable": "0",
            "route_path": "/",
            "mount_datasets": True,
            "service_account": "sids-ml-backend",
            "gateway": "sids-ml-backend",
            "admin_secret": "sids-ml-backend-admin",
        },
        "worker.yaml": common
        | sized
        | {
            "name": "sids-ml-backend-worker",
            "image": image,
            "max_replicas": 4,
            "service_account": "sids-ml-backend",
            "jobs_queue": "jobs",
            "storage_account": "stsidsmlproddata",
            "trigger_auth": "sids-ml-backend",
        },
    }


def rendered(template: str) -> list[dict[str, Any]]:
    text = render(TEMPLATES_DIR / template, sample_values()[template], keep_directive_lines=True)
    return split_documents(text)


def test_the_module_splits_documents_as_tested_here() -> None:
    text = (APP_MODULE / "main.tf").read_text()
    assert text.count('split("\\n---\\n", "\\n${replace(') == 2
    assert text.count('"/(?m)^---[ \\\\t]*$/", "---")}\\n")') == 2
    assert text.count('if length(regexall("(?m)^[A-Za-z]", part)) > 0') == 2


@pytest.mark.parametrize("template", sorted(CONTRACT))
def test_every_rendered_document_is_one_kubernetes_object(template: str) -> None:
    documents = rendered(template)
    assert len(documents) >= 2
    keys = [
        (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])
        for doc in documents
    ]
    assert all(doc["apiVersion"] for doc in documents)
    assert len(set(keys)) == len(keys)


def test_the_worker_scaler_finds_the_shared_trigger_authentication() -> None:
    auths = [doc for doc in rendered("shared.yaml") if doc["kind"] == "TriggerAuthentication"]
    assert len(auths) == 1  # the module takes trigger_auth from the one it finds
    scaler = next(doc for doc in rendered("worker.yaml") if doc["kind"] == "ScaledObject")
    assert (
        scaler["spec"]["triggers"][0]["authenticationRef"]["name"] == auths[0]["metadata"]["name"]
    )


def test_routes_attach_to_the_gateway_terraform_renders() -> None:
    (gateway,) = [doc for doc in rendered("shared.yaml") if doc["kind"] == "Gateway"]
    route = next(doc for doc in rendered("service.yaml") if doc["kind"] == "HTTPRoute")
    assert route["spec"]["parentRefs"][0]["name"] == gateway["metadata"]["name"]
    found = module_locals(APP_MODULE)
    assert unquote(found["gateway"]) == "${var.app_name}"
    assert unquote(found["admin_secret"]) == "${var.app_name}-admin"
    # No NGINX: the Gateway API replaced the managed ingress; the add-on runs without its
    # NGINX controller and nothing creates one.
    aks = resource(AZURE_MODULE, "azurerm_kubernetes_cluster", "this")
    assert unquote(first(aks, "web_app_routing")["default_nginx_controller"]) == "None"
    for directory in DIRECTORIES:
        for _kind, name, body in resources(directory):
            assert not any("NginxIngressController" in text for text in strings(body)), name


def test_stage_2_restarts_the_keda_operator_when_its_credential_changes() -> None:
    restart = resource(APP_MODULE, "kubernetes_annotations", "keda_operator_restart")
    metadata = first(restart, "metadata")
    assert (unquote(metadata["name"]), unquote(metadata["namespace"])) == (
        "keda-operator",
        "kube-system",
    )
    assert "var.keda_operator_credential_id" in str(restart["template_annotations"])
    output = declared(AZURE_MODULE, "output")["keda_operator_credential_id"]
    assert '["keda-operator"]' in output["value"]


def test_names_and_sizes_default_as_the_generator_does() -> None:
    variables = declared(STAGE_2, "variable")
    assert unquote(variables["app_name"]["default"]) == service_gen.APP_NAME
    defaults = {
        name: dict(re.findall(r'(\w+) = optional\(\w+, "?([^",)]+)"?\)', variables[name]["type"]))
        for name in ("api", "worker")
    }
    for expected, sizes in (
        (service_gen.SERVICE_RESOURCES, defaults["api"]),
        (service_gen.WORKER_RESOURCES, defaults["worker"]),
    ):
        assert {key: sizes[key] for key in expected} == expected
    assert (defaults["api"]["min_replicas"], defaults["api"]["max_surge"]) == ("2", "1")
    found = module_locals(APP_MODULE)
    assert unquote(found["config_map"]) == "${var.app_name}-settings"
    assert unquote(found["dataset_claim"]) == "${var.app_name}-datasets"


# Credentials: none in configuration.


# The one key in configuration: Flex Consumption mounts Azure Files only with the account key
# (function.tf explains; function_dataset_mount = false removes it).
SHARE_MOUNT = ("azurerm_function_app_flex_consumption", "this")


def test_no_resource_sets_a_storage_key_or_a_registry_admin_user() -> None:
    for directory in DIRECTORIES:
        for kind, name, body in resources(directory):
            assert not KEY_ATTRIBUTES & set(body), (kind, name)
            if (kind, name) == SHARE_MOUNT:
                body = {key: value for key, value in body.items() if key != "dynamic"}
            assert not any(KEY_REFERENCES.search(text) for text in strings(body)), (kind, name)
            assert body.get("admin_enabled") is not True, (kind, name)
    registry = resource(AZURE_MODULE, "azurerm_container_registry", "this")
    assert registry["admin_enabled"] is False


def test_only_the_dataset_account_allows_shared_keys_and_says_why() -> None:
    accounts = {
        name: body
        for kind, name, body in resources(AZURE_MODULE)
        if kind == "azurerm_storage_account"
    }
    assert {name for name, body in accounts.items() if body["shared_access_key_enabled"]} == {
        "datasets"
    }
    for body in accounts.values():
        assert unquote(body["min_tls_version"]) == "TLS1_2"
        assert body["allow_nested_items_to_be_public"] is False
    reasons = [c["value"] for c in accounts["datasets"]["__comments__"]]
    assert any(reason.startswith("checkov:skip=CKV2_AZURE_40:") for reason in reasons)


def test_storage_children_are_created_through_resource_manager() -> None:
    children = {
        (kind, name): body
        for kind, name, body in resources(AZURE_MODULE)
        if kind in ("azurerm_storage_share", "azurerm_storage_queue", "azurerm_storage_container")
    }
    assert {name for _, name in children} == {
        "datasets",
        "jobs",
        "results",
        "batch",
        "releases",
        "deployment",
    }
    for body in children.values():
        assert "storage_account_id" in body
        assert "storage_account_name" not in body


# AKS.


def test_aks_autoscaler_keda_workload_identity_and_monitoring_are_on() -> None:
    aks = resource(AZURE_MODULE, "azurerm_kubernetes_cluster", "this")
    pool = first(aks, "default_node_pool")
    assert pool["auto_scaling_enabled"] is True
    assert pool["min_count"] == "${var.node_min_count}"
    assert pool["max_count"] == "${var.node_max_count}"
    # Terraform sets the first bounds; then `az aks update --update-cluster-autoscaler` owns them.
    assert first(aks, "lifecycle")["ignore_changes"] == [
        "${default_node_pool[0].node_count}",
        "${default_node_pool[0].min_count}",
        "${default_node_pool[0].max_count}",
    ]
    assert first(aks, "workload_autoscaler_profile")["keda_enabled"] is True
    assert first(aks, "key_vault_secrets_provider")["secret_rotation_enabled"] is True
    assert aks["oidc_issuer_enabled"] is True
    assert aks["workload_identity_enabled"] is True
    assert aks["role_based_access_control_enabled"] is True
    assert aks["local_account_disabled"] is True
    assert first(aks, "storage_profile")["file_driver_enabled"] is True
    assert (
        "azurerm_log_analytics_workspace" in first(aks, "oms_agent")["log_analytics_workspace_id"]
    )
    assert unquote(first(aks, "identity")["type"]) == "SystemAssigned"


def test_aks_runs_a_pinned_kubernetes_minor() -> None:
    aks = resource(AZURE_MODULE, "azurerm_kubernetes_cluster", "this")
    assert aks["kubernetes_version"] == "${var.kubernetes_version}"
    variable = declared(STAGE_1, "variable")["kubernetes_version"]
    # A minor alias, never null (the region's default drifts out of support).
    assert re.fullmatch(r"1\.\d{2}", unquote(variable["default"]))
    assert int(unquote(variable["default"]).split(".")[1]) >= 34
    assert "default" not in declared(AZURE_MODULE, "variable")["kubernetes_version"]


def test_federated_credentials_use_the_forms_azurerm_5_keeps() -> None:
    credentials = [
        (name, body)
        for kind, name, body in resources(AZURE_MODULE)
        if kind == "azurerm_federated_identity_credential"
    ]
    assert {name for name, _ in credentials} == {"app", "github"}
    for name, body in credentials:
        assert "user_assigned_identity_id" in body, name
        assert "parent_id" not in body and "resource_group_name" not in body, name
    insights = resource(AZURE_MODULE, "azurerm_application_insights", "this")
    assert insights["local_authentication_enabled"] is False
    assert "local_authentication_disabled" not in insights


def test_the_kubelet_identity_pulls_from_the_registry() -> None:
    pull = resource(AZURE_MODULE, "azurerm_role_assignment", "aks_acr_pull")
    assert unquote(pull["role_definition_name"]) == "AcrPull"
    assert "kubelet_identity[0].object_id" in pull["principal_id"]


def test_the_app_identity_is_federated_with_the_app_and_keda_service_accounts() -> None:
    credential = resource(AZURE_MODULE, "azurerm_federated_identity_credential", "app")
    assert "oidc_issuer_url" in credential["issuer"]
    subjects = module_locals(AZURE_MODULE)["app_federated_subjects"]
    assert set(map(unquote, subjects.values())) == {
        "system:serviceaccount:${var.app_namespace}:${var.app_service_account}",
        "system:serviceaccount:kube-system:keda-operator",
    }


def test_identities_get_the_storage_roles_their_paths_need() -> None:
    roles = module_locals(AZURE_MODULE)["data_role_assignments"]
    for needed in (
        "Storage Blob Data Contributor",
        "Storage Queue Data Contributor",
        "Storage Account Contributor",  # the CSI driver's workload identity mount
        "Storage Blob Data Owner",  # identity-based Functions host storage
        "Key Vault Secrets User",  # admin keys (CSI driver, Key Vault reference)
        "Key Vault Certificate User",  # the Gateway's certificate
    ):
        assert f'role = "{needed}"' in roles


def test_the_key_vault_is_rbac_only_and_recoverable() -> None:
    vault = resource(AZURE_MODULE, "azurerm_key_vault", "this")
    assert vault["rbac_authorization_enabled"] is True
    assert vault["purge_protection_enabled"] is True
    assert "enable_rbac_authorization" not in vault  # deprecated in azurerm 4
    # Terraform never holds a secret value: operators set them (README).
    assert not [
        kind for kind, _, _ in resources(AZURE_MODULE) if kind == "azurerm_key_vault_secret"
    ]


def test_the_deploy_identity_writes_one_namespace_and_is_no_cluster_admin() -> None:
    roles = module_locals(AZURE_MODULE)["github_deploy_roles"]
    assert "Cluster Admin" not in roles and "RBAC Admin" not in roles
    assert 'role = "Azure Kubernetes Service RBAC Writer"' in roles
    assert "namespaces/${var.app_namespace}" in roles
    assert 'role = "Azure Kubernetes Service Cluster User Role"' in roles
    assert 'role = "Azure Kubernetes Service RBAC Reader"' in roles
    assert "namespaces/kube-system" in roles
    # The only Writer is namespace-scoped; nothing is Owner or Contributor on a whole resource.
    assert roles.count("RBAC Writer") == 1
    assert not re.search(r'role = "(Owner|Contributor)"', roles)


# The Flex Consumption Function App.


def test_function_app_is_flex_consumption_python_with_identity_deployment_storage() -> None:
    plan = resource(AZURE_MODULE, "azurerm_service_plan", "this")
    assert (unquote(plan["os_type"]), unquote(plan["sku_name"])) == ("Linux", "FC1")
    assert not [
        kind for kind, _, _ in resources(AZURE_MODULE) if kind == "azurerm_linux_function_app"
    ]
    app = resource(AZURE_MODULE, "azurerm_function_app_flex_consumption", "this")
    assert unquote(app["runtime_name"]) == "python"
    assert app["runtime_version"] == "${var.function_python_version}"
    assert unquote(declared(STAGE_1, "variable")["function_python_version"]["default"]) == "3.12"
    # The package from a blob container, read with the user-assigned identity: no key.
    assert unquote(app["storage_authentication_type"]) == "UserAssignedIdentity"
    assert "azurerm_user_assigned_identity.func.id" in app["storage_user_assigned_identity_id"]
    assert "azurerm_storage_container.deployment.name" in app["storage_container_endpoint"]
    assert "storage_access_key" not in app
    assert app["function_app_storage_uses_managed_identity"] is True
    assert "azurerm_user_assigned_identity.func.id" in app["key_vault_reference_identity_id"]


def test_function_app_mounts_the_dataset_share_at_dataset_path() -> None:
    app = resource(AZURE_MODULE, "azurerm_function_app_flex_consumption", "this")
    (mount,) = [block['"storage_account"'] for block in app["dynamic"]]
    assert mount["for_each"] == "${var.function_dataset_mount ? [1] : []}"
    content = first(mount, "content")
    assert unquote(content["type"]) == "AzureFiles"
    assert "azurerm_storage_share.datasets.name" in content["share_name"]
    assert content["mount_path"] == "${local.function_dataset_path}"
    paths = module_locals(AZURE_MODULE)["function_dataset_path"]
    # The mount where the AKS pods have it; without it, the package the pipeline fills.
    assert (
        paths == '${var.function_dataset_mount ? "/mnt/datasets" : "/home/site/wwwroot/datasets"}'
    )
    assert declared(STAGE_1, "variable")["function_dataset_mount"]["default"] is True


def test_function_app_settings_use_identity_connections_and_no_demo_data() -> None:
    settings = module_locals(AZURE_MODULE)["function_app_settings"]
    assert 'DEMO_DATA_FALLBACK = "false"' in settings
    assert "DATASET_PATH = local.function_dataset_path" in settings
    assert "JOBS_QUEUE_NAME = var.jobs_queue_name" in settings  # worker/function.json's queue
    for name in ("JobsStorage__blobServiceUri", "JobsStorage__queueServiceUri"):
        assert f"{name} = local.jobs_storage." in settings
    assert 'JobsStorage__credential = "managedidentity"' in settings
    # Flex Consumption sets the runtime and reads its package itself: neither is a setting.
    for retired in ("FUNCTIONS_WORKER_RUNTIME", "WEBSITE_RUN_FROM_PACKAGE", "METRICS_PUBLIC"):
        assert retired not in settings


def test_function_app_reads_the_admin_keys_from_key_vault() -> None:
    found = module_locals(AZURE_MODULE)
    assert "ADMIN_API_KEYS = local.admin_keys_reference" in found["function_app_settings"]
    assert unquote(found["admin_keys_reference"]) == (
        "@Microsoft.KeyVault(VaultName=${azurerm_key_vault.this.name};"
        "SecretName=${var.admin_keys_secret_name})"
    )


# Outputs, and stage 2 reading them.


def test_stage_1_outputs_what_operators_and_stage_2_need() -> None:
    outputs = declared(STAGE_1, "output")
    assert {
        "resource_group_name",
        "aks_name",
        "acr_login_server",
        "storage_account_name",
        "identity_client_id",
        "function_app_name",
        "function_app_hostname",
        "aks_oidc_issuer_url",
        "kubectl_credentials_command",
        "github_actions_variables",
    } <= outputs.keys()
    command = unquote(outputs["kubectl_credentials_command"]["value"])
    assert command.startswith("az aks get-credentials --resource-group ")
    autoscaler = unquote(outputs["autoscaler_update_command"]["value"])
    assert "--update-cluster-autoscaler --min-count N --max-count M" in autoscaler


# Variables a person sets by choice, not outputs of the infrastructure (see the README).
OPTIONAL_GITHUB_VARIABLES = {"FUNCTION_AUTH_LEVEL"}


def test_github_variables_cover_what_the_deploy_workflows_read() -> None:
    workflows = sorted((TERRAFORM.parents[1] / ".github" / "workflows").glob("deploy*.y*ml"))
    assert workflows
    read = {name for path in workflows for name in re.findall(r"vars\.(\w+)", path.read_text())}
    read -= OPTIONAL_GITHUB_VARIABLES
    value = declared(STAGE_1, "output")["github_actions_variables"]["value"]
    assert read <= {name for name, _ in entries(value)}


def test_stage_2_reads_only_outputs_stage_1_defines() -> None:
    read = set()
    for path in STAGE_2.glob("*.tf"):
        text = path.read_text()
        read |= set(re.findall(r"local\.infra\.(\w+)", text))
        read |= set(re.findall(r"terraform_remote_state\.infra\.outputs\.(\w+)", text))
    assert read
    assert read <= declared(STAGE_1, "output").keys()


def test_stage_2_leaves_workloads_to_the_deploy_workflow_unless_asked() -> None:
    variables = declared(STAGE_2, "variable")
    assert variables["manage_workloads"]["default"] is False
    # With workloads on, the image tag is required (the validation ties the two together).
    condition = str(variables["image_tag"]["validation"][0]["condition"])
    assert "var.manage_workloads" in condition and '"latest"' in condition
    call = dict(entries(parse(STAGE_2 / "main.tf")["module"][0]))["sids_ml_app"]
    assert unquote(call["image"]).endswith(":${var.image_tag}")


# checkov suppressions.


def test_checkov_suppressions_are_inline_and_give_a_reason() -> None:
    skips = [
        line.strip()
        for path in TF_FILES
        for line in path.read_text().splitlines()
        if "checkov:skip" in line
    ]
    assert skips
    for skip in skips:
        assert re.fullmatch(r"#checkov:skip=CKV2?_AZURE_\d+:\S.{30,}", skip), skip
    assert not list(TERRAFORM.rglob(".checkov.y*ml"))


def test_the_deploy_identity_gets_the_custom_kinds_of_its_namespace_only() -> None:
    role = resource(APP_MODULE, "kubernetes_role_v1", "deployer")
    assert first(role, "metadata")["namespace"] == "${var.namespace}"
    rules = {
        (unquote(r["api_groups"][0]), unquote(resource_name)): set(map(unquote, r["verbs"]))
        for r in role["rule"]
        for resource_name in r["resources"]
    }
    writes = {"get", "list", "watch", "create", "update", "patch"}
    assert rules == {
        ("keda.sh", "scaledobjects"): writes,
        ("gateway.networking.k8s.io", "httproutes"): writes,
        ("gateway.networking.k8s.io", "gateways"): {"get", "list", "watch"},
    }
    assert not any("delete" in verbs or "*" in verbs for verbs in rules.values())
    binding = resource(APP_MODULE, "kubernetes_role_binding_v1", "deployer")
    subject = first(binding, "subject")
    assert (unquote(subject["kind"]), subject["name"]) == ("User", "${var.deploy_principal_id}")
    assert "local.infra.github_deploy_principal_id" in (STAGE_2 / "main.tf").read_text()
    # The kinds it may write are exactly the custom kinds the pipeline applies.
    kinds = {
        doc["kind"]
        for template in ("service.yaml", "worker.yaml")
        for doc in rendered(template)
        if "/" in doc["apiVersion"]
        and doc["apiVersion"].split("/")[0] not in {"apps", "policy", "networking.k8s.io"}
    }
    assert kinds == {"ScaledObject", "HTTPRoute"}
