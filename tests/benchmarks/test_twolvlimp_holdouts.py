"""The holdouts summary's statistics against hand-computed binomials, and its report on figures
shaped like the accuracy benchmark's JSON."""

import json
import math
import random
import statistics
from pathlib import Path
from typing import Any

import pytest

from benchmarks import twolvlimp_accuracy as accuracy
from benchmarks import twolvlimp_holdouts as holdouts

DEFAULT = accuracy.DEFAULT_METHOD


def _binomial(cells: int, counts: range, p: float = 0.9) -> float:
    return sum(math.comb(cells, k) * p**k * (1 - p) ** (cells - k) for k in counts)


def test_band_counts_include_both_ends_of_the_band() -> None:
    assert accuracy.band_counts(80) == range(71, 74)  # 87.5% out, 88.75% in; 92.5% out
    assert accuracy.band_counts(320) == range(282, 295)  # 281.6 and 294.4 are the band's ends
    # 0.7 * 90 is 62.99999999999999 in floating point: 63 of 90 is still in a 50-70% band.
    assert accuracy.band_counts(90, (0.5, 0.7)) == range(45, 64)
    assert accuracy.band_counts(3) == range(0)  # no count of 3 lands in 88-92%


def test_band_probability_is_the_binomial_sum_over_the_band() -> None:
    assert holdouts.band_probability(10, 0.9, (0.8, 1.0)) == pytest.approx(0.9298, abs=1e-4)
    assert holdouts.band_probability(80) == pytest.approx(_binomial(80, range(71, 74)))
    assert holdouts.band_probability(320) == pytest.approx(_binomial(320, range(282, 295)))
    assert holdouts.band_probability(3) == 0.0
    # More cells, less noise: the band holds more often.
    assert holdouts.band_probability(80) < holdouts.band_probability(320) < 1


def test_calibration_test_tells_noise_from_miscalibration() -> None:
    calibrated = [holdouts.Coverage(288, 320), holdouts.Coverage(72, 80)]
    assert holdouts.calibration_test(calibrated) == pytest.approx((0.0, 1.0))
    statistic, _ = holdouts.calibration_test([holdouts.Coverage(283, 320)])
    assert statistic == pytest.approx(25 / 28.8)
    too_narrow = [holdouts.Coverage(256, 320)] * 4  # 80% inside a "90%" interval
    assert holdouts.calibration_test(too_narrow)[1] < 1e-6
    share, (low, high) = holdouts.pooled(too_narrow)
    assert share == pytest.approx(0.8)
    assert low < 0.8 < high < 0.9


def _figures(seed: int, covered: dict[str, int], cells: int, answers: list[float]) -> dict:
    """A holdout's figures as the accuracy benchmark writes them, for a service-only run; the
    answers' cells are one case's, each truth 0 inside [-1, 1]."""
    scores: dict[str, Any] = {}
    for kind in accuracy.GAP_KINDS:
        default = {
            "cells": cells,
            "median_error": 0.01,
            "coverage": covered[kind] / cells,
            "covered": covered[kind],
            "with_interval": cells,
        }
        scores[kind] = {DEFAULT: default, accuracy.CROSS_COUNTRY_MEDIAN: {"cells": cells}}
    return {
        "seed": seed,
        "scores": scores,
        "cells": [_cell("whole", "t", truth=0.0) for _ in answers],
        "answers": {DEFAULT: [{"estimate": a, "lower": -1.0, "upper": 1.0} for a in answers]},
    }


def _cell(kind: str, target: str, truth: float) -> dict[str, Any]:
    return {"kind": kind, "year": 2015, "target": target, "country": "C", "truth": truth}


def _cases(covered_counts: list[int], size: int = 10) -> dict[str, Any]:
    """Whole-series cases of `size` cells with these covered counts, and an inner cell."""
    cells = [_cell("inner", "other", truth=5.0)]
    answers: list[dict[str, float] | None] = [None]
    for number, covered in enumerate(covered_counts):
        for position in range(size):
            cells.append(_cell("whole", f"t{number}", truth=0.0 if position < covered else 5.0))
            answers.append({"estimate": 0.0, "lower": -1.0, "upper": 1.0})
    return {"cells": cells, "answers": {DEFAULT: answers}}


def test_case_dispersion_grows_with_uneven_cases() -> None:
    # Nine of ten covered in every case: less spread than binomial noise would give.
    assert holdouts.case_dispersion(_cases([9] * 10), "whole") == 0.0
    # Half the cases at 10, half at 8 (share 0.9): each case's chi-square 1 / (10 x 0.09), on
    # 10 - 1 degrees of freedom.
    assert holdouts.case_dispersion(_cases([10, 8] * 5), "whole") == pytest.approx(10 / 0.9 / 9)
    # One case missing every cell: its deviation of 9 dominates (81 / 0.9, and 9 x 1 / 0.9).
    assert holdouts.case_dispersion(_cases([10] * 9 + [0]), "whole") == pytest.approx(100 / 9)
    assert math.isnan(holdouts.case_dispersion(_cases([10] * 3), "whole"))  # nothing missed
    assert math.isnan(holdouts.case_dispersion(_cases([8]), "whole"))  # one case cannot spread


@pytest.mark.parametrize("case_count", [8, 32])
def test_case_dispersion_averages_one_for_binomial_misses(case_count: int) -> None:
    """Cells missing independently at 10%: the figure is unbiased, even with few cases (dividing
    by the cells instead of the cases - 1 averages 7/8 at 8 cases)."""
    draws = random.Random(16)
    figures = []
    for _ in range(2000):
        counts = [sum(draws.random() < 0.9 for _ in range(10)) for _ in range(case_count)]
        figures.append(holdouts.case_dispersion(_cases(counts), "whole"))
    assert statistics.fmean(f for f in figures if not math.isnan(f)) == pytest.approx(1, abs=0.04)


def _write(folder: Path, name: str, figures: dict[str, Any]) -> str:
    path = folder / name
    path.write_text(json.dumps(figures))
    return str(path)


def test_report_marks_figures_outside_the_band_and_counts_changed_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    after = _figures(3, {"inner": 292, "whole": 296}, 320, [1.0, 2.0, 3.0])
    before = _figures(3, {"inner": 292, "whole": 297}, 320, [1.0, 2.5, 3.0])
    argv = [
        _write(tmp_path, "after.json", after),
        "--before",
        _write(tmp_path, "before.json", before),
    ]
    monkeypatch.setattr("sys.argv", ["holdouts", *argv])
    holdouts.main()
    out = capsys.readouterr().out
    assert "inner 0.0100 (before 0.0100), coverage 91.2% in (dispersion nan)" in out
    assert "coverage 92.5% OUT" in out
    assert "no panel baselines" in out  # a service-only run has no best baseline to beat
    assert "1 of 3 cells changed" in out
    assert "1 of 2 in 88%-92%" in out
    odds = holdouts.band_probability(320) ** 2
    assert f"with probability {odds:.2g}" in out


def test_best_baseline_is_the_lowest_other_method_of_a_full_run() -> None:
    whole = {
        DEFAULT: {"cells": 10, "median_error": 0.01},
        accuracy.TREES_YEAR: {"cells": 10, "median_error": 0.05},
        accuracy.LOW_RANK: {"cells": 10, "median_error": 0.04},
        accuracy.OWN_INTERPOLATION: {"cells": 0},  # nothing to interpolate on a whole series
    }
    assert accuracy.best_baseline(whole) == accuracy.LOW_RANK
    del whole[accuracy.TREES_YEAR]  # as in a --service-only run
    assert accuracy.best_baseline(whole) is None


def test_run_holdouts_runs_the_accuracy_benchmark_on_each_and_reports_them(
    demo_dataset_dir: Path, tmp_path: Path
) -> None:
    """Two small holdouts of the demo data, run at once as real benchmark processes."""
    small = ((3, 2, 8), (4, 2, 8))
    paths = holdouts.run_holdouts(tmp_path / "runs", demo_dataset_dir, jobs=2, holdouts=small)
    assert [path.name for path in paths] == ["seed-3.json", "seed-4.json"]
    runs = [json.loads(path.read_text()) for path in paths]
    for (seed, cases, cells), figures in zip(small, runs):
        assert figures["seed"] == seed and len(figures["cases"]) == cases
        assert figures["request"]["estimators"] == holdouts.HOLDOUT_TREES
        assert figures["service_only"]  # no panel baselines unless --full
        assert sum(case["cells"] for case in figures["cases"]) == 2 * cells  # both kinds
        assert f"seed {seed:>5} |" in holdouts.holdout_row(figures, None)
    report = holdouts.calibration_report(runs)
    assert report[-1].startswith("a perfectly calibrated 90% interval puts all 4 in")


def test_run_without_the_dataset_says_so_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["holdouts", "--run", str(tmp_path / "runs"), "--dataset", str(tmp_path / "absent")]
    monkeypatch.setattr("sys.argv", argv)
    holdouts.main()
    assert "Dataset not found" in capsys.readouterr().out
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["a.json", "--run", "dir"],
        ["--run", "dir", "--jobs", "0"],
        ["a.json", "--full"],  # --full, --jobs and --dataset only mean something to a run
        ["a.json", "--dataset", "elsewhere"],
    ],
)
def test_arguments_need_figures_or_a_run(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    monkeypatch.setattr("sys.argv", ["holdouts", *argv])
    with pytest.raises(SystemExit) as refused:
        holdouts.parse_args()
    assert refused.value.code == 2


@pytest.mark.parametrize(
    ("second_seed", "refusal"), [(3, "a second run of seed 3"), (4, "the same seeds")]
)
def test_seeds_must_not_repeat_nor_differ_from_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, second_seed: int, refusal: str
) -> None:
    """Two runs of seed 3 would hide one; a --before of other seeds compares nothing."""
    covered = {"inner": 290, "whole": 290}
    first = _write(tmp_path, "a.json", _figures(3, covered, 320, [1.0]))
    second = _write(tmp_path, "b.json", _figures(second_seed, covered, 320, [1.0]))
    argv = [first, second] if second_seed == 3 else [first, "--before", second]
    monkeypatch.setattr("sys.argv", ["holdouts", *argv])
    with pytest.raises(SystemExit, match=refusal):
        holdouts.main()
