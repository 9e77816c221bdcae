"""Units of the survey clustering algorithm: the elbow rule, GPS rows, imputation."""

from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from models.survey.algorithm import (
    as_numbers,
    cluster_survey,
    elbow_k,
    gps_rows,
    k_prototypes,
    labels_per_row,
    prepare_features,
)


@pytest.mark.parametrize(
    ("costs", "expected"),
    [
        ([100.0, 40.0, 8.0, 7.0, 6.0, 5.0], 3),
        ([100.0, 10.0, 9.0, 8.5, 8.0], 2),
        ([90.0, 80.0, 70.0, 12.0, 11.0, 10.0, 9.0], 4),
        ([60.0, 30.0, 0.0, 0.0, 0.0, 0.0], 3),
    ],
)
def test_elbow_is_the_obvious_one(costs: list[float], expected: int) -> None:
    assert elbow_k(costs) == expected


@pytest.mark.parametrize("costs", [[5.0, 5.0, 5.0, 5.0], [0.0, 0.0], [0.0] * 8, [3.0]])
def test_flat_curve_gives_one_cluster(costs: list[float]) -> None:
    assert elbow_k(costs) == 1


def test_straight_curve_has_no_elbow() -> None:
    assert elbow_k([40.0, 30.0, 20.0, 10.0, 0.0]) == 1


def test_two_points_split_when_the_cost_drops() -> None:
    assert elbow_k([10.0, 2.0]) == 2
    assert elbow_k([10.0, 10.0]) == 1


def test_a_worse_fit_at_a_larger_k_does_not_move_the_elbow() -> None:
    assert elbow_k([100.0, 40.0, 8.0, 9.5, 6.0, 5.0]) == elbow_k([100.0, 40.0, 8.0, 8.0, 6.0, 5.0])


def test_elbow_is_always_between_one_and_the_curve_length() -> None:
    rng = np.random.default_rng(0)
    for length in range(1, 12):
        for _ in range(30):
            # One of the two curves (the stubs read choice of a list as choice of an int).
            curve = rng.choice([rng.random(length), np.sort(rng.random(length))[::-1]])
            costs = cast(npt.NDArray[np.float64], curve) * 100
            assert 1 <= elbow_k(costs.tolist()) <= length


def test_empty_curve_is_an_error() -> None:
    with pytest.raises(ValueError):
        elbow_k([])


def test_gps_rows_need_a_finite_number_for_every_gps_question() -> None:
    table = pd.DataFrame(
        {
            "lat": [1.5, None, "2.5", "n/a", "", 3.0, float("nan"), 4.0, [1.0], True, 10**400],
            "lon": [1.0, 1.0, 1.0, 1.0, 1.0, None, 1.0, float("inf"), 1.0, 1.0, 1.0],
        },
        dtype=object,
    )
    assert gps_rows(table, ["lat", "lon"]).tolist() == [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert gps_rows(table, []).all()


def test_numbers_reject_booleans_words_and_infinities() -> None:
    numbers, invalid = as_numbers(pd.Series([1, "2.5", None, " ", True, "x", float("inf")]))
    assert invalid.tolist() == [False, False, False, False, True, True, True]
    assert numbers.iloc[:2].tolist() == [1.0, 2.5]
    assert numbers.iloc[2:].isna().all()


def test_missing_answers_get_the_mode_and_the_mean() -> None:
    table = pd.DataFrame(
        {
            "roof": ["tile", None, "metal", "tile", ""],
            "income": [10.0, None, 30.0, "", 20.0],
            "unanswered": [None] * 5,
        },
        dtype=object,
    )
    features = prepare_features(table, ["roof", "unanswered"], ["income"])
    assert features["roof"].tolist() == ["tile", "tile", "metal", "tile", "tile"]
    assert features["unanswered"].nunique() == 1
    income = features["income"].to_numpy()
    assert income[1] == pytest.approx(income[4]) == pytest.approx(0.0)  # the mean, standardised
    assert income.mean() == pytest.approx(0.0)


def test_labels_are_numbered_in_order_of_first_appearance() -> None:
    corners = [(50.0, 87.0), (50.1, 87.0), (0.0, 0.0), (0.1, 0.0), (100.0, 0.0), (100.1, 0.0)]
    table = pd.DataFrame(corners * 3, columns=["x", "y"], dtype=object)
    result = cluster_survey(table, [], ["x", "y"], max_k=5)
    assert result.k == 3
    assert result.labels.tolist()[:6] == [0, 0, 1, 1, 2, 2]


def test_k_prototypes_separates_groups_a_category_alone_cannot() -> None:
    rng = np.random.default_rng(1)
    groups = np.repeat([0, 1, 2, 3], 25)
    codes = (groups % 2)[:, None]  # a yes/no answer: two values for four groups
    numeric = np.column_stack([np.where(groups < 2, 0.0, 5.0) + rng.normal(0, 0.1, 100)])
    labels, cost = k_prototypes(numeric, codes, 4)
    assert len(set(zip(groups.tolist(), labels.tolist()))) == 4 == len(set(labels.tolist()))
    assert cost == pytest.approx(
        ((numeric[:, 0] - pd.Series(numeric[:, 0]).groupby(groups).transform("mean")) ** 2).sum()
    )
    assert k_prototypes(numeric, codes, 4)[1] == cost


def test_labels_per_row_puts_none_at_dropped_rows() -> None:
    kept = np.array([True, False, True, True, False])
    assert labels_per_row(kept, np.array([2, 0, 1])) == [2, None, 0, 1, None]
