"""The container image and the local compose stack: base image, layer order, settings, user,
what goes into the image, and that every environment variable set is one something reads."""

import fnmatch
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import setting_env_names

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
TEMPLATES = ROOT / "deployment" / "k8s" / "templates"
BASE_IMAGE = re.compile(r"mcr\.microsoft\.com/azure-functions/python:4-python3\.12")
# Top-level folders with Python packages that are not part of the running service.
NOT_SHIPPED = {"tests", "benchmarks", "deployment"}
# Settings of the Functions host (not of the app) the image and compose may set.
FUNCTIONS_HOST_SETTINGS = {
    "AzureWebJobsScriptRoot",
    "AzureFunctionsJobHost__Logging__Console__IsEnabled",
    "AzureWebJobsStorage",
    "FUNCTIONS_WORKER_RUNTIME",
}
DISABLED_FUNCTION = re.compile(r"AzureWebJobs\.(\w+)\.Disabled")


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        joined.append(pending)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in joined]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, arguments in instructions():
        if instruction == "ENV":
            for item in shlex.split(arguments):
                name, value = item.split("=", 1)
                env[name] = value
    return env


def copied_sources() -> list[str]:
    sources: list[str] = []
    for instruction, arguments in instructions():
        if instruction == "COPY":
            sources.extend(a for a in shlex.split(arguments)[:-1] if not a.startswith("--"))
    return sources


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def service_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {name: str(value) for name, value in env.items()}


def command(service: dict[str, Any]) -> list[str]:
    value = service.get("command", [])
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


def functions() -> set[str]:
    return {path.parent.name for path in ROOT.glob("*/function.json")}


def test_base_image_is_the_functions_python_312_image() -> None:
    stages = [arguments for instruction, arguments in instructions() if instruction == "FROM"]
    assert len(stages) == 1
    assert BASE_IMAGE.fullmatch(stages[0])


def test_requirements_are_installed_in_their_own_layer_before_the_code() -> None:
    steps = instructions()
    install_command = "pip install --no-cache-dir -r /tmp/requirements.txt"
    copy_requirements = steps.index(("COPY", "requirements.txt /tmp/requirements.txt"))
    install = next(
        i for i, (op, args) in enumerate(steps) if op == "RUN" and install_command in args
    )
    first_code = next(
        i for i, (op, args) in enumerate(steps) if op == "COPY" and "requirements.txt" not in args
    )
    assert copy_requirements < install < first_code


def test_image_serves_the_mounted_share_and_never_the_demo_data() -> None:
    env = image_env()
    assert env["AzureWebJobsScriptRoot"] == "/home/site/wwwroot"
    assert env["AzureFunctionsJobHost__Logging__Console__IsEnabled"] == "true"
    assert env["DATASET_PATH"] == "/mnt/datasets"
    assert env["DEMO_DATA_FALLBACK"] == "false"


def test_image_runs_as_the_non_root_user_the_manifests_expect() -> None:
    users = [arguments for instruction, arguments in instructions() if instruction == "USER"]
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or int(gid) != 0)
    manifest_uids = {
        int(match)
        for template in TEMPLATES.glob("*.yaml")
        for match in re.findall(r"runAsUser: (\d+)", template.read_text())
    }
    assert manifest_uids <= {int(uid)}


def test_every_app_package_and_the_host_config_are_copied() -> None:
    packages = {
        path.parent.name
        for pattern in ("*/__init__.py", "*/__main__.py", "*/function.json")
        for path in ROOT.glob(pattern)
    } - NOT_SHIPPED
    copied = {source.rstrip("/") for source in copied_sources()}
    assert packages <= copied
    assert "host.json" in copied
    assert not copied & NOT_SHIPPED


def test_build_context_excludes_local_state_and_keeps_what_the_image_copies() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p.removeprefix("**/")) for p in patterns)

    for local in (
        ".git",
        ".venv",
        "node_modules",
        "tests",
        "datasets",
        "local.settings.json",
        ".env",
        ".pytest_cache",
        "deployment",
        "terraform.tfstate",
        "x.tfstate.backup",
    ):
        assert ignored(local), local  # fmt: skip
    for source in copied_sources():
        assert not ignored(source.rstrip("/")), source


def test_every_environment_variable_set_is_read_by_the_app_or_the_host() -> None:
    names = set(image_env())
    for service in compose()["services"].values():
        names |= set(service_env(service))
    settings = setting_env_names()
    for name in names:
        disabled = DISABLED_FUNCTION.fullmatch(name)
        if disabled:
            assert disabled.group(1) in functions(), f"{name}: no such function"
        else:
            assert name.upper() in settings or name in FUNCTIONS_HOST_SETTINGS, name


def test_compose_runs_api_worker_and_azurite() -> None:
    services = compose()["services"]
    assert set(services) == {"api", "worker", "azurite"}
    api, worker, azurite = services["api"], services["worker"], services["azurite"]
    assert api["build"] == worker["build"] == "."
    assert api["image"] == worker["image"]
    assert [port.rsplit(":", 2)[-2:] for port in api["ports"]] == [["7071", "80"]]
    for service in (api, worker):
        assert "./datasets:/mnt/datasets:ro" in service["volumes"]
    assert command(worker) == ["python", "-m", "worker"]
    assert "worker" in functions()
    assert service_env(api)["AzureWebJobs.worker.Disabled"] == "true"
    assert azurite["image"].startswith("mcr.microsoft.com/azure-storage/azurite:3.")
    assert {port.rsplit(":", 1)[-1] for port in azurite["ports"]} == {"10000", "10001"}


def test_compose_storage_is_azurite_for_the_app_host_and_worker() -> None:
    services = compose()["services"]
    api, worker = service_env(services["api"]), service_env(services["worker"])
    connections = [api["AzureWebJobsStorage"], api["JobsStorage"]]
    connections.append(worker["AZURE_STORAGE_CONNECTION_STRING"])
    for connection in connections:
        parts = dict(part.split("=", 1) for part in connection.strip(";").split(";"))
        assert parts["AccountName"] == "devstoreaccount1"
        assert parts["BlobEndpoint"] == "http://azurite:10000/devstoreaccount1"
        assert parts["QueueEndpoint"] == "http://azurite:10001/devstoreaccount1"
    # Both load the same data, so the result cache keys (dataset version) agree.
    shared = {"DATASET_PATH", "DEMO_DATA_FALLBACK"}
    assert {k: v for k, v in api.items() if k in shared} == {
        k: v for k, v in worker.items() if k in shared
    }


def test_compose_lets_the_unprivileged_host_bind_its_port() -> None:
    api = compose()["services"]["api"]
    container_port = int(api["ports"][0].rsplit(":", 1)[-1])
    uid = [arguments for instruction, arguments in instructions() if instruction == "USER"][-1]
    if container_port < 1024 and not uid.startswith("0"):
        assert int(api["sysctls"]["net.ipv4.ip_unprivileged_port_start"]) <= container_port
    probe = " ".join(api["healthcheck"]["test"])
    assert "/healthz" in probe
