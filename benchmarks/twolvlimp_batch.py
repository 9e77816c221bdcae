"""Batch throughput on the real dataset: one batch with 1 and then 2 worker processes.

    python -m benchmarks.twolvlimp_batch [--dataset PATH] [--code gapminder] [--years 2014-2019]
        [--targets 12] [--json FILE]

Runs the same batch (the first `--targets` targets of the dataset code, sorted, that every
year of the range offers, in each year of the range, at the front end's default settings: AFS
10, KNNImputer, rfr, 100 trees, quantile, history) through `run_local_batch` (a local queue and
spawned worker processes, the cluster's code path) with 1 and 2 workers, each run with an empty
result cache. Reports units and trainings per second, the scaling efficiency from 1 to 2 workers
(rate with 2 / (2 x rate with 1)), and the projected time for every target and year of the
dataset code on 1, 10, 20 and 50 workers (its trainings / (rate with 1 x workers x the measured
efficiency)). The time runs from submission, once the workers have loaded the data, to the last
unit. Prints the load average: the figures are only comparable within one run. Also reports the
CPU seconds the units took (their workers' and helpers' CPU time) per training, and how busy the
workers were (CPU / (workers x seconds)): on a machine others load, a busy fraction well under
1 says the cores were taken, not that the batch left them idle.
"""

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.real_data import DEFAULT_DATASET, dataset_available, write_figures
from common.core.settings import Settings
from common.data.datasets import DatasetManager
from common.serving.batch import Output
from common.serving.batch_local import run_local_batch
from models.twolvlImp import options
from models.twolvlImp.precomputed import BATCH, BatchRequest

PROJECTED_WORKERS = (1, 10, 20, 50)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--code", default="gapminder", help="the dataset code of the batch")
    # 72 trainings (about 45 s on one worker): a batch of 12 trainings ends with one worker idle
    # for a large share of it, which hides the scaling the benchmark is there to measure.
    parser.add_argument("--years", default="2014-2019")
    parser.add_argument("--targets", type=int, default=12)
    parser.add_argument("--json", type=Path)
    return parser.parse_args()


def main() -> None:
    arguments = _arguments()
    if not dataset_available(arguments.dataset):
        return
    settings = Settings(dataset_path=arguments.dataset, demo_data_fallback=False)
    store = DatasetManager(settings).load()
    assert store is not None
    first, last = (int(year) for year in arguments.years.split("-"))
    years = range(first, last + 1)
    # Targets every year of the range offers: each unit trains once per year, none fails.
    offered = [set(options.target_options(store, year, arguments.code)) for year in years]
    targets = sorted(set.intersection(*offered))
    request = BatchRequest(
        datasets=[arguments.code], first_year=first, last_year=last,
        targets=targets[: arguments.targets], model_number=1,
    )  # fmt: skip
    every = sum(len(options.target_options(store, y, arguments.code)) for y in store.years)
    print(f"load average before: {os.getloadavg()}")
    runs = {workers: _run(settings, request, workers) for workers in (1, 2)}
    print(f"load average after: {os.getloadavg()}")
    efficiency = runs[2]["steps_per_second"] / (2 * runs[1]["steps_per_second"])
    projected = {
        workers: every
        / (runs[1]["steps_per_second"] * (1 if workers == 1 else workers * efficiency))
        for workers in PROJECTED_WORKERS
    }
    _report(runs, efficiency, every, projected, len(store.years))
    write_figures(
        arguments.json,
        {"runs": runs, "efficiency": efficiency, "every_step": every, "projected": projected,
         "load_average": os.getloadavg()},
    )  # fmt: skip


def _run(settings: Settings, request: BatchRequest, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        output = Output(kind="folder", location=folder)
        view = run_local_batch(settings, BATCH, request, output, workers)
    assert view.finished is not None
    seconds = (view.finished - view.record.submitted).total_seconds()
    units = view.progress.done + view.progress.failed
    if view.failures:
        raise SystemExit(f"steps failed, the rates would not be trainings: {view.failures[:3]}")
    cpu = view.cpu_seconds or 0.0
    return {
        "workers": workers,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "cpu_per_step": cpu / view.progress.steps,
        "busy": cpu / (workers * seconds),
        "units": units,
        "steps": view.progress.steps,
        "failed": view.progress.failed,
        "units_per_second": units / seconds,
        "steps_per_second": view.progress.steps / seconds,
    }


def _report(
    runs: dict[int, dict[str, Any]], efficiency: float, every: int, projected: dict[int, float],
    years: int,
) -> None:  # fmt: skip
    print(
        "| workers | units | trainings | seconds | units/s | trainings/s | CPU s | "
        "CPU s/training | busy |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for run in runs.values():
        print(
            f"| {run['workers']} | {run['units']} | {run['steps']} | {run['seconds']} | "
            f"{run['units_per_second']:.3f} | {run['steps_per_second']:.3f} | "
            f"{run['cpu_seconds']} | {run['cpu_per_step']:.2f} | {run['busy']:.2f} |"
        )
    print(f"scaling efficiency 1 -> 2 workers: {efficiency:.2f}")
    print(f"every target and year of the dataset: {every} trainings over {years} years")
    for workers, seconds in projected.items():
        print(f"  projected on {workers} workers: {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
