"""Is the accuracy benchmark's extra-trees baseline a weakened straw man? A configuration probe.

Question: how much does the whole-series error of the "extra trees, year matrix" baseline
(`benchmarks.panel_baselines.iterative_trees` over the year's country x indicator matrix)
depend on its configuration: trees, the share of columns tried at each split
(`max_features`) and imputation rounds? The benchmark's configuration is `TREES`,
`TREE_FEATURES`, `TREE_ROUNDS` (30 trees, max_features 1.0, one round since this probe showed
that 10 trees, 0.3 and three rounds halved its strength); scikit-learn's defaults are 100 trees,
max_features 1.0 and 10 rounds.

It rebuilds the benchmark's blanked data (its `pick_cases` and `write_blanked`, the same seed,
cases and cells), takes the `--years` years with the most whole-series cells, fits the year's
matrix exactly as the benchmark's `year_trees` does (without neighbouring years) once per
configuration and year, and prints per configuration the CPU and wall seconds per year and the
median normalised error (|estimate - truth| / cell scale) over those years' whole-series cells
with its bootstrap 95% interval. Given `--figures` (the JSON of a benchmark run of the same
seed, cases and cells), it also prints the service default's and the year-by-year reference's
median errors on the same cells, and checks that the current configuration reproduces that
run's baseline answers.

Run from the repository root:

    .venv/bin/python -m benchmarks.et_baseline_probe [--figures RUN.json] [--years N]
        [--config TREES,FEATURES,ROUNDS ...] [--json FILE]

If the dataset folder is absent the script says so and exits with status 0.
"""

import argparse
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.panel_baselines import (
    TREE_FEATURES,
    TREE_ROUNDS,
    TREES,
    frequent_columns,
    iterative_trees,
)
from benchmarks.real_data import DEFAULT_DATASET, dataset_available, write_figures
from benchmarks.twolvlimp_accuracy import (
    SERVICE_METHODS,
    TREES_YEAR,
    Answer,
    Case,
    Cell,
    _position,
    holdout_cases,
    score,
    write_blanked,
)
from common.data.datasets import IndicatorStore, parse_dataset, read_folder

SEED = 1
CASES = 32
CELLS = 320
YEARS = 2


@dataclass(frozen=True)
class TreeConfig:
    trees: int
    features: float
    rounds: int

    def __str__(self) -> str:
        return f"{self.trees} trees, max_features {self.features:g}, {self.rounds} rounds"


CURRENT = TreeConfig(TREES, TREE_FEATURES, TREE_ROUNDS)


def tree_config(text: str) -> TreeConfig:
    trees, features, rounds = text.split(",")
    return TreeConfig(int(trees), float(features), int(rounds))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="dataset folder")
    parser.add_argument("--seed", type=int, default=SEED, help="the benchmark's seed")
    parser.add_argument("--cases", type=int, default=CASES, help="the benchmark's --cases")
    parser.add_argument("--cells", type=int, default=CELLS, help="the benchmark's --cells")
    parser.add_argument("--years", type=int, default=YEARS, help="years with most whole cells")
    parser.add_argument(
        "--config",
        type=tree_config,
        action="append",
        help=f"TREES,FEATURES,ROUNDS (repeatable; default: the benchmark's {CURRENT})",
    )
    parser.add_argument("--figures", type=Path, help="a benchmark run's JSON, same seed/cells")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    return parser.parse_args()


def blanked_cases(
    dataset: Path, seed: int, case_count: int, cells: int, folder: Path
) -> tuple[list[Case], IndicatorStore]:
    """The benchmark's cases and its blanked store (written to `folder`), as it builds them."""
    cases = holdout_cases(dataset, seed, case_count, cells)[1]
    write_blanked(dataset, folder, cases)
    return cases, parse_dataset(read_folder(folder))


def busiest_years(cases: list[Case], count: int) -> list[int]:
    """The `count` years with the most whole-series cells (earlier year first on a tie)."""
    whole = Counter(cell.year for case in cases for cell in case.cells if cell.kind == "whole")
    return sorted(sorted(whole, key=lambda year: (-whole[year], year))[:count])


def fit_year(
    store: IndicatorStore, year_cases: list[Case], config: TreeConfig
) -> tuple[dict[Cell, Answer | None], float, float]:
    """The year's whole-series cells filled as `year_trees` fills them (no neighbouring years),
    with the fit's CPU and wall seconds."""
    y = store.year_index(year_cases[0].year)
    targets = [_position(store.indicators, case.target) for case in year_cases]
    matrix = store.values[y]
    columns = frequent_columns(matrix, required=np.array(targets))
    cpu, wall = time.process_time(), time.perf_counter()
    filled = iterative_trees(
        matrix[:, columns], trees=config.trees, features=config.features, rounds=config.rounds
    )
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    answers: dict[Cell, Answer | None] = {}
    for case, target in zip(year_cases, targets):
        at = int(np.searchsorted(columns, target))
        for cell in case.cells:
            if cell.kind == "whole":
                value = filled[store.countries.get_loc(cell.country), at]
                answers[cell] = None if np.isnan(value) else Answer(float(value))
    return answers, cpu, wall


def run_answers(figures: dict[str, Any], cells: list[Cell]) -> dict[str, list[Answer | None]]:
    """Each method's answers of a benchmark run on `cells` (which must be cells of that run)."""
    index = {Cell(**cell): i for i, cell in enumerate(figures["cells"])}
    missing = [cell for cell in cells if cell not in index]
    if missing:
        raise SystemExit(f"{len(missing)} cells are not in the run's JSON (other seed/cells?)")
    return {
        method: [None if (a := given[index[c]]) is None else Answer(**a) for c in cells]
        for method, given in figures["answers"].items()
    }


def _line(label: str, row: dict[str, Any], seconds: str = "") -> str:
    low, high = row["median_error_interval"]
    return f"{label:<48}{seconds:>16}{row['median_error']:>10.4f}   {low:.4f}-{high:.4f}"


def main() -> None:
    args = parse_args()
    if not dataset_available(args.dataset):
        return
    configs = args.config or [CURRENT]
    with tempfile.TemporaryDirectory(prefix="et-probe-") as folder:
        cases, store = blanked_cases(args.dataset, args.seed, args.cases, args.cells, Path(folder))
    years = busiest_years(cases, args.years)
    cells = [c for case in cases if case.year in years for c in case.cells if c.kind == "whole"]
    print(f"seed {args.seed}, {args.cases} cases, {args.cells} cells; years {years}: ", end="")
    print(f"{len(cells)} whole-series cells")
    print(f"{'method':<48}{'s/year cpu|wall':>16}{'median':>10}   95% bootstrap")
    figures: dict[str, Any] = {"years": years, "cells": len(cells), "configs": {}}
    for config in configs:
        answers: dict[Cell, Answer | None] = {}
        cpu, wall = [], []
        for year in years:
            got, took_cpu, took_wall = fit_year(store, [c for c in cases if c.year == year], config)
            answers.update(got)
            cpu.append(took_cpu)
            wall.append(took_wall)
        row = score(cells, [answers[c] for c in cells])
        row |= {"cpu_seconds": cpu, "wall_seconds": wall}
        figures["configs"][str(config)] = row
        seconds = f"{np.mean(cpu):.0f}|{np.mean(wall):.0f}"
        print(_line(str(config), row, seconds), flush=True)
        if args.figures and config == CURRENT:
            reference = run_answers(json.loads(args.figures.read_text()), cells)[TREES_YEAR]
            same = all(
                a is not None and b is not None and np.isclose(a.estimate, b.estimate)
                for a, b in zip(reference, (answers[c] for c in cells))
            )
            print(f"  reproduces the run's '{TREES_YEAR}' answers: {same}")
            figures["reproduces_run"] = same
    if args.figures:
        run = run_answers(json.loads(args.figures.read_text()), cells)
        for method in [label for label, _ in SERVICE_METHODS] + [TREES_YEAR]:
            row = score(cells, run[method])
            figures[method] = row
            print(_line(f"{method} (from the run)", row))
    write_figures(args.json, figures)


if __name__ == "__main__":
    main()
