"""The accuracy benchmark's baselines and figures on the demo dataset (no service requests): the
panel baselines answer every blanked cell, and the bootstrap intervals are what they claim."""

from pathlib import Path

import numpy as np
import pytest

from benchmarks import twolvlimp_accuracy as accuracy
from common.data.datasets import IndicatorStore, parse_dataset, read_folder
from models.twolvlImp.options import target_options

YEAR = 2015


@pytest.fixture(scope="module")
def holdout(demo_dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Two seeded cases of the demo data (one year) and the blanked copy's store."""
    store = parse_dataset(read_folder(demo_dataset_dir))
    offered = [
        (YEAR, dataset, target)
        for dataset in sorted(store.dataset_names)
        for target in sorted(target_options(store, YEAR, dataset))
    ]
    cases = accuracy.pick_cases(store, offered, seed=3, case_count=2, cells=8, number_predictor=3)
    folder = tmp_path_factory.mktemp("blanked")
    accuracy.write_blanked(demo_dataset_dir, folder, cases)
    return cases, parse_dataset(read_folder(folder))


def _cells(cases: list[accuracy.Case]) -> list[accuracy.Cell]:
    return [cell for case in cases for cell in case.cells]


@pytest.mark.parametrize("neighbours", [0, accuracy.NEIGHBOUR_YEARS])
def test_year_trees_answer_every_cell_closer_than_the_cross_country_median(
    holdout: tuple[list[accuracy.Case], IndicatorStore], neighbours: int
) -> None:
    cases, blanked = holdout
    answers = accuracy.year_trees(blanked, cases, neighbours, rounds=1)  # one round: fast
    cells = _cells(cases)
    assert set(answers) == set(cells)
    median = [accuracy.cross_country_median(blanked, c) for c in cells]
    trees = accuracy.score(cells, [answers[c] for c in cells])
    assert trees["cells"] == len(cells)
    assert "coverage" not in trees  # no interval
    assert trees["median_error"] < accuracy.score(cells, median)["median_error"]


def test_panel_low_rank_answers_every_cell_closer_than_the_cross_country_median(
    holdout: tuple[list[accuracy.Case], IndicatorStore],
) -> None:
    cases, blanked = holdout
    answers, summary = accuracy.panel_low_rank(blanked, cases)
    cells = _cells(cases)
    assert set(answers) == set(cells)
    assert 1 <= summary["rank"] <= len(blanked.countries)
    median = [accuracy.cross_country_median(blanked, c) for c in cells]
    low_rank = accuracy.score(cells, [answers[c] for c in cells])
    assert low_rank["median_error"] < accuracy.score(cells, median)["median_error"]


def _cells_with_errors(errors: list[float]) -> tuple[list[accuracy.Cell], list[accuracy.Answer]]:
    cells = [accuracy.Cell("whole", YEAR, "t", f"C{i}", 0.0, 1.0) for i in range(len(errors))]
    return cells, [accuracy.Answer(error) for error in errors]


def test_bootstrap_interval_holds_the_median_and_narrows_with_more_cells() -> None:
    rng = np.random.default_rng(0)
    few = accuracy.score(*_cells_with_errors(list(rng.exponential(size=20))))
    many = accuracy.score(*_cells_with_errors(list(rng.exponential(size=2000))))
    for figures in (few, many):
        low, high = figures["median_error_interval"]
        assert low <= figures["median_error"] <= high
    assert np.diff(many["median_error_interval"]) < 0.5 * np.diff(few["median_error_interval"])
    assert abs(many["median_error"] - np.log(2)) < 0.1  # the exponential's median


def test_paired_ratio_tells_a_real_difference_from_noise() -> None:
    rng = np.random.default_rng(1)
    reference = rng.exponential(size=200)
    same = accuracy.ratio_to(reference * rng.uniform(0.9, 1.1, 200), reference)
    halved = accuracy.ratio_to(reference / 2, reference)
    assert same["median_ratio_interval"][0] < 1 < same["median_ratio_interval"][1]
    assert halved["median_ratio"] == pytest.approx(0.5)
    assert halved["median_ratio_interval"][1] < 1
    assert accuracy.ratio_to(np.full(3, np.nan), reference[:3]) == {}


def test_coverage_interval_holds_the_coverage_and_narrows_with_more_cells() -> None:
    """Nine of ten cells inside their interval: 90% coverage, with a bootstrap interval around it
    that is wide on 20 cells and narrower on 400 (a 87.5% on 80 cells is not told from 90%)."""

    def coverage(count: int) -> tuple[float, list[float]]:
        cells = [accuracy.Cell("whole", YEAR, "t", f"C{i}", 0.0, 1.0) for i in range(count)]
        answers = [
            accuracy.Answer(0.0, *((1.0, 2.0) if i % 10 == 0 else (-1.0, 1.0)))
            for i in range(count)
        ]
        figures = accuracy.score(cells, answers)
        return figures["coverage"], figures["coverage_interval"]

    (small, small_interval), (large, large_interval) = coverage(20), coverage(400)
    for covered, (low, high) in ((small, small_interval), (large, large_interval)):
        assert covered == pytest.approx(0.9)
        assert low < 0.9 < high
    assert np.ptp(large_interval) < np.ptp(small_interval) / 2
