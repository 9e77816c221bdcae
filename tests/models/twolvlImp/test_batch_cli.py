"""`python -m models.twolvlImp.batch` refuses bad arguments with a clear message and status 2
(a run's files are compared with a job's in tests/worker/test_batch_workers.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.core.settings import Settings

REPO = Path(__file__).resolve().parents[3]
BASE = ["--dataset", "demo_fao", "--years", "2010-2011", "--model-number", "1"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--years", "twenty"], "is not a year or a range"),
        (["--processes", "0"], "--processes must be at least 1"),
        (["--model-number", "0"], "model_number"),
        (["--years", "2012-2010"], "first_year must not be after last_year"),
        (["--dataset", "nope"], "datasets: datasets 'nope' is not available"),
        (["--years", "1990-1991"], "first_year: first_year 1990 is not available"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    demo_settings: Settings, tmp_path: Path, arguments: list[str], message: str
) -> None:
    base = BASE[:]
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        if flag in base:
            base[base.index(flag) + 1] = value
        else:
            base += [flag, value]
    env = {**os.environ, "DATASET_PATH": str(demo_settings.dataset_path)}
    command = [sys.executable, "-m", "models.twolvlImp.batch", *base, "--out", str(tmp_path)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert not any(tmp_path.iterdir())
