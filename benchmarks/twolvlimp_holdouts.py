"""The two-level imputation's accuracy goals over several holdouts, from their JSON figures.

Each holdout is one run of `benchmarks.twolvlimp_accuracy --json FILE` (the issue's four: the
default seed, and seeds 1-3 at 32 cases / 320 cells). One row per holdout: the service default's
median errors, the whole series' lead on the best baseline (full runs only: a `--service-only` run
has no panel baselines) and the coverage of its 90% intervals against the goal band. With
`--before` (the same holdouts run on the code before a change), also each holdout's cells whose
answer changed and the median errors before.

Coverage is then judged as calibration, over every holdout at once:

- pooled: the share of all cells of a gap kind inside their interval, with a Wilson 95% interval;
- a chi-square test of every holdout's covered count against the nominal 90% (a small p-value is
  miscalibration beyond the noise of the cells drawn). It takes cells as independent, but the
  cells of one case share a model and their misses correlate, so the real noise is larger: the
  test is, if anything, too quick to find miscalibration;
- that correlation, per holdout: the spread of the cases' covered counts over binomial noise's
  (Pearson dispersion; about 1 when the cases' cells miss independently, above 1 when some
  cases' intervals are too narrow and others' too wide);
- how often a perfectly calibrated interval would put every figure in the band: the product of
  each figure's binomial probability of landing there (independent cells; less with correlated
  ones).

Run from the repository root, on figures already written, or running the holdouts first
(`--run DIR`: each into DIR/seed-N.json and .log, `--jobs` at a time; the service alone at the
issue's 10 trees, about 2 minutes on 2 cores; `--full` adds the year-by-year reference and the panel
baselines, about two hours):

    .venv/bin/python -m benchmarks.twolvlimp_holdouts FILE [FILE ...] [--before FILE [FILE ...]]
        (the files first: --before takes every file after it)
    .venv/bin/python -m benchmarks.twolvlimp_holdouts --run DIR [--full] [--jobs N]
        [--dataset PATH] [--before FILE [FILE ...]]
"""

import argparse
import json
import math
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipy import stats

from benchmarks.real_data import DEFAULT_DATASET, dataset_available
from benchmarks.twolvlimp_accuracy import (
    COVERAGE_GOAL,
    DEFAULT_CASES,
    DEFAULT_CELLS,
    DEFAULT_METHOD,
    DEFAULT_SEED,
    GAP_KINDS,
    INTERVAL_QUANTILES,
    REQUEST,
    band_counts,
    best_baseline,
    covers,
    lead_on,
)

# The intervals' promised coverage; rounded, as 0.95 - 0.05 is 0.8999999999999999.
NOMINAL = round(INTERVAL_QUANTILES[1] - INTERVAL_QUANTILES[0], 12)
CALIBRATION_LEVEL = 0.95  # of the pooled coverage's interval
# Issue 16's holdouts: (seed, cases, cells per gap kind), the service at 10 trees.
HOLDOUTS: tuple[tuple[int, int, int], ...] = (
    (DEFAULT_SEED, DEFAULT_CASES, DEFAULT_CELLS),
    (1, 32, 320),
    (2, 32, 320),
    (3, 32, 320),
)
HOLDOUT_TREES: int = REQUEST["estimators"]  # the request
DEFAULT_JOBS = 2  # holdouts at a time: one per core here
REPOSITORY = Path(__file__).resolve().parents[1]  # where `-m benchmarks...` resolves


@dataclass(frozen=True)
class Coverage:
    """One holdout's covered cells of one gap kind."""

    covered: int
    cells: int

    @property
    def share(self) -> float:
        return self.covered / self.cells


def coverage_of(figures: dict[str, Any], kind: str) -> Coverage:
    """The service default's covered count on one gap kind of one holdout's figures."""
    row = figures["scores"][kind][DEFAULT_METHOD]
    return Coverage(row["covered"], row["with_interval"])


def band_probability(
    cells: int, nominal: float = NOMINAL, band: tuple[float, float] = COVERAGE_GOAL
) -> float:
    """How often a perfectly calibrated interval covers a share in the band of `cells`
    independent cells (binomial)."""
    counts = band_counts(cells, band)
    if not counts:
        return 0.0
    return float(
        stats.binom.cdf(counts[-1], cells, nominal) - stats.binom.cdf(counts[0] - 1, cells, nominal)
    )


def calibration_test(coverages: list[Coverage], nominal: float = NOMINAL) -> tuple[float, float]:
    """Chi-square statistic of the covered counts against `nominal`, one degree of freedom per
    count, and its p-value."""
    statistic = sum(
        (c.covered - c.cells * nominal) ** 2 / (c.cells * nominal * (1 - nominal))
        for c in coverages
    )
    return statistic, float(stats.chi2.sf(statistic, len(coverages)))


def pooled(coverages: list[Coverage]) -> tuple[float, tuple[float, float]]:
    """The share covered over all the cells, with its Wilson interval."""
    covered, cells = sum(c.covered for c in coverages), sum(c.cells for c in coverages)
    interval = stats.binomtest(covered, cells).proportion_ci(CALIBRATION_LEVEL, method="wilson")
    return covered / cells, (float(interval.low), float(interval.high))


def case_dispersion(figures: dict[str, Any], kind: str) -> float:
    """The cases' covered counts' spread around the holdout's share, over binomial noise's:
    Pearson's chi-square over its degrees of freedom (cases - 1, as the share is estimated from
    the same cases), so about 1 when cells miss independently."""
    by_case: dict[tuple[int, str], list[bool]] = defaultdict(list)
    for cell, answer in zip(figures["cells"], figures["answers"][DEFAULT_METHOD]):
        if cell["kind"] == kind and answer is not None and answer["lower"] is not None:
            covered = covers(answer["lower"], answer["upper"], cell["truth"])
            by_case[(cell["year"], cell["target"])].append(covered)
    cases = list(by_case.values())
    cells = sum(len(case) for case in cases)
    share = sum(sum(case) for case in cases) / cells if cells else 0.0
    if share in (0.0, 1.0) or len(cases) < 2:
        return math.nan  # no noise to compare with (or too few cases to spread)
    chi_square = sum(
        (sum(case) - len(case) * share) ** 2 / (len(case) * share * (1 - share)) for case in cases
    )
    return chi_square / (len(cases) - 1)


def changed_cells(after: dict[str, Any], before: dict[str, Any]) -> int:
    """The cells whose service default answer differs between two runs of one holdout."""
    if after["cells"] != before["cells"]:
        raise SystemExit(f"seed {after['seed']}: the two runs blanked different cells")
    answers = zip(after["answers"][DEFAULT_METHOD], before["answers"][DEFAULT_METHOD])
    return sum(a != b for a, b in answers)


def in_band(coverage: Coverage) -> bool:
    return coverage.covered in band_counts(coverage.cells)


def _band_mark(coverage: Coverage) -> str:
    return f"{coverage.share:.1%} {'in' if in_band(coverage) else 'OUT'}"


def _lead(whole: dict[str, Any]) -> str:
    best = best_baseline(whole)
    if best is None:
        return "n/a (no panel baselines)"
    return f"{lead_on(whole, best):.0%} below {whole[best]['median_error']:.3f} ({best})"


def holdout_row(figures: dict[str, Any], before: dict[str, Any] | None) -> str:
    """One holdout's line: errors (and before), the lead on the best baseline, coverages."""
    scores = figures["scores"]
    parts = [f"seed {figures['seed']:>5}"]
    for kind in GAP_KINDS:
        error = f"{kind} {scores[kind][DEFAULT_METHOD]['median_error']:.4f}"
        if before is not None:
            error += f" (before {before['scores'][kind][DEFAULT_METHOD]['median_error']:.4f})"
        parts.append(
            f"{error}, coverage {_band_mark(coverage_of(figures, kind))} "
            f"(dispersion {case_dispersion(figures, kind):.2f})"
        )
    parts.append(f"whole {_lead(scores['whole'])}")
    if before is not None:
        parts.append(f"{changed_cells(figures, before)} of {len(figures['cells'])} cells changed")
    return " | ".join(parts)


def calibration_report(holdouts: list[dict[str, Any]]) -> list[str]:
    """The coverage judged over every holdout: pooled, tested, and the band's odds."""
    band = f"{COVERAGE_GOAL[0]:.0%}-{COVERAGE_GOAL[1]:.0%}"
    lines, everything, odds = [], [], 1.0
    for kind in GAP_KINDS:
        coverages = [coverage_of(figures, kind) for figures in holdouts]
        everything += coverages
        share, (low, high) = pooled(coverages)
        statistic, p_value = calibration_test(coverages)
        cells = sum(c.cells for c in coverages)
        lines.append(
            f"{kind}: pooled {share:.1%} ({low:.1%}-{high:.1%}) of {cells} cells; "
            f"chi-square {statistic:.2f} on {len(coverages)} df, p = {p_value:.2f}"
        )
        for coverage in coverages:
            odds *= band_probability(coverage.cells)
    statistic, p_value = calibration_test(everything)
    inside = sum(in_band(c) for c in everything)
    lines += [
        f"all {len(everything)} figures: chi-square {statistic:.2f}, p = {p_value:.2f}; "
        f"{inside} of {len(everything)} in {band}",
        f"a perfectly calibrated {NOMINAL:.0%} interval puts all {len(everything)} in {band} "
        f"with probability {odds:.2g} (binomial, independent cells)",
    ]
    return lines


def run_holdouts(
    folder: Path,
    dataset: Path,
    *,
    full: bool = False,
    jobs: int = DEFAULT_JOBS,
    holdouts: tuple[tuple[int, int, int], ...] = HOLDOUTS,
) -> list[Path]:
    """Run the accuracy benchmark on each holdout, `jobs` at a time; their JSON files."""
    # Absolute, as the runs start in the repository root, wherever this was started.
    folder, dataset = folder.resolve(), dataset.resolve()
    folder.mkdir(parents=True, exist_ok=True)

    def run(holdout: tuple[int, int, int]) -> Path:
        seed, cases, cells = holdout
        figures, log = folder / f"seed-{seed}.json", folder / f"seed-{seed}.log"
        command = [
            sys.executable, "-m", "benchmarks.twolvlimp_accuracy", "--dataset", str(dataset),
            "--seed", str(seed), "--cases", str(cases), "--cells", str(cells),
            "--estimators", str(HOLDOUT_TREES), "--json", str(figures),
        ]  # fmt: skip
        if not full:
            command.append("--service-only")
        with log.open("w") as output:
            finished = subprocess.run(
                command, stdout=output, stderr=subprocess.STDOUT, cwd=REPOSITORY
            )
        if finished.returncode != 0:
            raise SystemExit(f"seed {seed}: the accuracy benchmark failed, see {log}")
        return figures

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(run, holdouts))


def _load(paths: list[Path]) -> dict[int, dict[str, Any]]:
    """Each file's figures by seed; two runs of one seed would hide one of them."""
    holdouts: dict[int, dict[str, Any]] = {}
    for path in paths:
        figures = json.loads(path.read_text())
        if figures["seed"] in holdouts:
            raise SystemExit(f"{path}: a second run of seed {figures['seed']}")
        holdouts[figures["seed"]] = figures
    return holdouts


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figures", nargs="*", type=Path, help="twolvlimp_accuracy --json files")
    parser.add_argument(
        "--before", nargs="+", type=Path, default=[], help="the same holdouts, earlier code"
    )
    parser.add_argument("--run", type=Path, metavar="DIR", help="run the holdouts into DIR first")
    parser.add_argument("--full", action="store_true", help="with --run: every baseline too")
    parser.add_argument(
        "--jobs", type=int, default=DEFAULT_JOBS, help="with --run: holdouts at a time"
    )
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="with --run")
    args = parser.parse_args()
    if bool(args.figures) == bool(args.run):
        parser.error("give either the figures' files or --run DIR")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    run_only = {
        "--full": args.full,
        "--jobs": args.jobs != DEFAULT_JOBS,
        "--dataset": args.dataset != DEFAULT_DATASET,
    }
    if not args.run and (given := [flag for flag, set_ in run_only.items() if set_]):
        parser.error(f"{', '.join(given)} only go with --run DIR")
    return args


def main() -> None:
    args = parse_args()
    paths = args.figures
    if args.run:
        if not dataset_available(args.dataset):
            return
        paths = run_holdouts(args.run, args.dataset, full=args.full, jobs=args.jobs)
    holdouts, before = _load(paths), _load(args.before)
    if before and set(before) != set(holdouts):
        raise SystemExit(
            f"--before must run the same seeds: {sorted(before)} against {sorted(holdouts)}"
        )
    for seed, figures in holdouts.items():
        print(holdout_row(figures, before.get(seed)))
    print()
    for line in calibration_report(list(holdouts.values())):
        print(line)


if __name__ == "__main__":
    main()
