"""The sample model's computation: a pure function over numpy arrays, no web or dataset types.

Keep the algorithm here, testable on its own; the router fetches the data and shapes the answer.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Summary:
    """Count, mean, minimum and maximum of the present values; None when there is none."""

    count: int
    mean: float | None
    min: float | None
    max: float | None


def summarise(values: np.ndarray) -> Summary:
    """Summarise the values that are not NaN."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        return Summary(count=0, mean=None, min=None, max=None)
    return Summary(
        count=int(present.size),
        mean=float(present.mean()),
        min=float(present.min()),
        max=float(present.max()),
    )
