"""What the benchmarks on the real dataset share: where it is, its credit, checked answers."""

import json
from pathlib import Path
from typing import Any

from common.data.files import DATA_FILE

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared/data/gapminder-sids"
DATASET_CREDIT = (
    "Data: Gapminder Systema Globalis (free material from www.gapminder.org), CC BY 4.0."
)


def dataset_available(folder: Path) -> bool:
    """Print the data credit; False, after saying so, when the folder holds no dataset."""
    print(DATASET_CREDIT)
    if (folder / DATA_FILE).is_file():
        return True
    print(f"Dataset not found at {folder} (no {DATA_FILE}): nothing to benchmark.")
    print("Put the Gapminder SIDS extract there, or pass --dataset PATH.")
    return False


def checked(response: Any, what: str) -> Any:
    """The JSON body of a 200 response; anything else stops the benchmark with the body."""
    if response.status_code != 200:
        raise SystemExit(f"{what} answered {response.status_code}: {response.text}")
    return response.json()


def write_figures(path: Path | None, figures: dict[str, Any]) -> None:
    """Write the figures as JSON when a path was given."""
    if path:
        path.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {path}")
