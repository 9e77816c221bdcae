"""`python -m models.twolvlImp.batch` refuses bad arguments with a clear message and status 2
(a run's files are compared with a job's in tests/worker/test_batch_workers.py).

The cases call `main(argv)` in this process (a subprocess costs seconds of imports each); one
runs the module as a command, so its exit status is shown to reach the shell."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.core.settings import Settings
from models.twolvlImp.batch import main

REPO = Path(__file__).resolve().parents[3]
BASE = ["--dataset", "demo_fao", "--years", "2010-2011", "--model-number", "1"]
UNKNOWN_DATASET = (["--dataset", "nope"], "datasets: datasets 'nope' is not available")


def _argv(arguments: list[str], out: Path) -> list[str]:
    """BASE with `arguments`' flags replaced or added."""
    argv = BASE[:]
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    return [*argv, "--out", str(out)]


def _status(argv: list[str]) -> int:
    """main's exit status: what it returns, or the SystemExit argparse raises."""
    try:
        return main(argv)
    except SystemExit as exit_:
        assert isinstance(exit_.code, int), exit_.code
        return exit_.code


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--years", "twenty"], "is not a year or a range"),
        (["--processes", "0"], "--processes must be at least 1"),
        (["--model-number", "0"], "model_number"),
        (["--years", "2012-2010"], "first_year must not be after last_year"),
        UNKNOWN_DATASET,
        (["--years", "1990-1991"], "first_year: first_year 1990 is not available"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    demo_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("DATASET_PATH", str(demo_settings.dataset_path))
    status = _status(_argv(arguments, tmp_path))
    stderr = capsys.readouterr().err
    assert status == 2, stderr
    assert message in stderr
    assert not any(tmp_path.iterdir())


def test_the_command_exits_2_on_data_it_cannot_serve(
    demo_settings: Settings, tmp_path: Path
) -> None:
    """The module as a command: main's status (not only argparse's) is the process's."""
    arguments, message = UNKNOWN_DATASET
    env = {**os.environ, "DATASET_PATH": str(demo_settings.dataset_path)}
    command = [sys.executable, "-m", "models.twolvlImp.batch", *_argv(arguments, tmp_path)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert not any(tmp_path.iterdir())
