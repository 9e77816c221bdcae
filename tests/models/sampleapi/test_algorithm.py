"""The sample model's pure function."""

import numpy as np
import pytest

from models.sampleapi.algorithm import summarise


def test_summary_ignores_missing_values() -> None:
    result = summarise(np.array([2.0, np.nan, 4.0, 9.0]))
    assert (result.count, result.min, result.max) == (3, 2.0, 9.0)
    assert result.mean == pytest.approx(5.0)


def test_no_values_give_a_count_of_zero_and_no_figures() -> None:
    result = summarise(np.array([np.nan, np.nan]))
    assert (result.count, result.mean, result.min, result.max) == (0, None, None, None)
