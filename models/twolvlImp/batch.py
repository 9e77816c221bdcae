"""`python -m models.twolvlImp.batch`: the platform's precomputed model files on this machine.

    python -m models.twolvlImp.batch --dataset DATASET --years 2010-2020 --model-number N \
        --out DIR [--processes N] [--targets CODE ...]

Files land in `DIR/model{N}/{dataset}/{indicator}.json` and `DIR/ML Model Metadata.json` (the
data API's layout). The batch runs as on the cluster (`models.twolvlImp.precomputed`,
`common.serving.batch`), with a local queue and N spawned worker processes; a progress bar goes
to stderr. Exit status: 0 every unit done, 1 some failed (listed), 2 bad arguments.
"""

import argparse
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from common.core.errors import InvalidParameter
from common.core.settings import get_settings
from common.serving.batch import Output
from common.serving.batch_local import ProgressBar, run_local_batch
from models.twolvlImp.precomputed import BATCH, BATCH_SCHEMES, PREDICT_SETTINGS, BatchRequest
from models.twolvlImp.schemas import Interpolator, Interval, Method, Model, Scheme

# ---- command line ----------------------------------------------------------------------------


def _parse_years(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year or a range such as 2010-2020")
    first = int(match.group(1))
    return first, int(match.group(2) or first)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m models.twolvlImp.batch",
        description="Write the platform's precomputed model files (DIR/model{N}/{dataset}/"
        "{indicator}.json and DIR/ML Model Metadata.json) for every target of the datasets in "
        "the years, with a local queue and worker processes.",
    )
    parser.add_argument("--dataset", action="append", required=True, help="repeat for several")
    parser.add_argument("--years", type=_parse_years, required=True, help="2010-2020 or 2015")
    parser.add_argument("--model-number", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--targets", nargs="+", help="default: every target of each year")
    parser.add_argument("--data", type=Path, help="dataset folder (default: DATASET_PATH)")
    parser.add_argument(
        "--scheme", default=Scheme.AFS.value, choices=[s.value for s in BATCH_SCHEMES]
    )
    parser.add_argument("--number-predictor", type=int, default=10)
    parser.add_argument(
        "--interpolator", default="KNNImputer", choices=[i.value for i in Interpolator]
    )
    parser.add_argument("--model", default="rfr", choices=[m.value for m in Model])
    parser.add_argument("--estimators", type=int, default=100)
    parser.add_argument("--interval", default="quantile", choices=[i.value for i in Interval])
    parser.add_argument("--method", default="history", choices=[m.value for m in Method])
    parser.add_argument("--description", default="", help='"Model Description" of the metadata')
    arguments = parser.parse_args(argv)
    if arguments.processes < 1:
        parser.error("--processes must be at least 1")
    arguments.request = _request(parser, arguments)
    return arguments


def _request(parser: argparse.ArgumentParser, arguments: argparse.Namespace) -> BatchRequest:
    first, last = arguments.years
    fields = {
        "datasets": arguments.dataset,
        "first_year": first,
        "last_year": last,
        "targets": arguments.targets,
        "model_number": arguments.model_number,
        "metadata": {"description": arguments.description},
        **{name: getattr(arguments, name) for name in PREDICT_SETTINGS},
    }
    try:
        return BatchRequest.model_validate(fields)
    except ValidationError as error:
        _refuse(parser, error)


def _refuse(parser: argparse.ArgumentParser, error: ValidationError) -> NoReturn:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'request'}: {problem['msg']}"
        for problem in error.errors()
    )
    parser.error(problems)


def main(argv: list[str] | None = None) -> int:
    """Run the batch; 0 when every unit is done, 1 when some failed (listed), 2 on bad input."""
    arguments = _arguments(argv)
    settings = get_settings()
    # A local run: the memory backend, whatever storage the environment names.
    update: dict[str, Any] = {
        "azure_storage_connection_string": None,
        "azure_storage_blob_url": None,
    }
    if arguments.data is not None:
        update["dataset_path"] = arguments.data
    settings = settings.model_copy(update=update)
    output = Output(kind="folder", location=str(arguments.out.resolve()))
    try:
        view = run_local_batch(
            settings, BATCH, arguments.request, output, arguments.processes, ProgressBar()
        )
    except InvalidParameter as error:
        print(f"error: {error.field}: {error.detail}{_allowed(error.allowed)}", file=sys.stderr)
        return 2
    for failure in view.failures:
        print(f"failed: {failure.unit} {failure.step}: {failure.error.detail}", file=sys.stderr)
    print(f"{view.progress.done} done, {view.progress.failed} failed: {output.describe()}")
    return 1 if view.failures else 0


def _allowed(allowed: list[Any] | None, shown: int = 20) -> str:
    if not allowed:
        return ""
    more = ", ..." if len(allowed) > shown else ""
    return f" (allowed: {', '.join(map(str, allowed[:shown]))}{more})"


if __name__ == "__main__":
    sys.exit(main())
