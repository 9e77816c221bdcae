"""One Python version everywhere: the suite's interpreter, pyproject, ruff, the Makefile and
.ci/find-python, the Functions image, CI, the pipeline's package build, the Function App and the
README's quick start all say 3.12. And .ci/find-python finds a 3.12 on a machine like this one
(pyenv, not the global version) and refuses any other."""

import os
import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
VERSION = "3.12"
FIND_PYTHON = REPO / ".ci" / "find-python"


def _text(path: str) -> str:
    return (REPO / path).read_text()


def test_the_suite_runs_on_the_version() -> None:
    assert "{}.{}".format(*sys.version_info[:2]) == VERSION


def test_pyproject_ruff_and_mypy_target_the_version() -> None:
    project = tomllib.loads(_text("pyproject.toml"))
    assert project["project"]["requires-python"] == f">={VERSION}"
    assert project["tool"]["ruff"]["target-version"] == "py" + VERSION.replace(".", "")
    assert project["tool"]["mypy"]["python_version"] == VERSION


def test_make_and_ci_look_for_the_version() -> None:
    assert re.search(rf"^PYTHON_VERSION := {re.escape(VERSION)}$", _text("Makefile"), re.M)
    assert f'WANTED="{VERSION}"' in _text(".ci/find-python")
    assert ".ci/find-python" in _text(".ci/run") and ".ci/find-python" in _text("Makefile")


def test_the_image_and_the_workflows_use_the_version() -> None:
    (base,) = re.findall(r"^FROM (\S+)", _text("Dockerfile"), re.M)
    assert base == f"mcr.microsoft.com/azure-functions/python:4-python{VERSION}"
    ci = yaml.safe_load(_text(".github/workflows/ci.yml"))
    (python,) = [s for s in ci["jobs"]["test"]["steps"] if "setup-python" in s.get("uses", "")]
    assert python["with"]["python-version"] == VERSION
    assert yaml.safe_load(_text(".github/workflows/deploy.yml"))["env"]["PYTHON_VERSION"] == VERSION


def test_the_function_app_runs_the_version() -> None:
    block = _text("deployment/terraform/variables.tf").split('variable "function_python_version"')[
        1
    ]
    assert re.search(rf'default\s*=\s*"{re.escape(VERSION)}"', block.split("\nvariable ")[0])


def test_the_readme_quick_start_names_the_version() -> None:
    quick_start = _text("README.md").split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert f"Python {VERSION}" in quick_start
    assert "3.11" not in quick_start


def test_the_testing_doc_names_the_version() -> None:
    setup = _text("docs/testing.md").split("## What `make test` installs and runs", 1)[1]
    assert f"Python {VERSION}" in setup.split("\n## ", 1)[0]


# .ci/find-python on controlled machines.


def _fake_python(folder: Path, name: str, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    major, minor = version.split(".")
    path.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *sys.executable*) echo "{path}" ;; *) echo "{major}.{minor}" ;; esac\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _find(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(FIND_PYTHON)], env=env, capture_output=True, text=True, timeout=60
    )


def _bare_env(tmp_path: Path, path: str) -> dict[str, str]:
    """A machine with only what the test puts there: pyenv at tmp/pyenv, no system Python."""
    return {
        "PATH": path,
        "HOME": str(tmp_path / "home"),
        "PYENV_ROOT": str(tmp_path / "pyenv"),
        "FIND_PYTHON_FALLBACK_PYENV": "",
        "FIND_PYTHON_SYSTEM_DIRS": "",
    }


def test_find_python_prints_a_real_3_12_interpreter_here() -> None:
    result = _find({**os.environ, "PYTHON": ""})
    assert result.returncode == 0, result.stderr
    found = result.stdout.strip()
    version = subprocess.run(
        [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == VERSION
    assert "shims" not in found  # the interpreter itself, not a pyenv shim


def test_find_python_takes_pyenvs_version_when_it_is_not_on_path(tmp_path: Path) -> None:
    interpreter = _fake_python(
        tmp_path / "pyenv" / "versions" / "3.12.1" / "bin", "python", VERSION
    )
    bin_dir = tmp_path / "bin"
    _fake_python(bin_dir, "python3", "3.11")  # the default python3 is another version
    result = _find(_bare_env(tmp_path, f"{bin_dir}:/bin"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(interpreter)


def test_find_python_skips_other_versions_and_names_what_it_tried(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _fake_python(bin_dir, "python3", "3.11")
    _fake_python(bin_dir, "python3.12", "3.11")  # a shim without the version behind it
    result = _find(_bare_env(tmp_path, f"{bin_dir}:/bin"))
    assert result.returncode == 1
    assert f"no Python {VERSION} found" in result.stderr and "python3.12" in result.stderr
