"""Property-based tests (hypothesis) of the pure parts: cache keys, interpolation, clustering."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.serving.tasks import cache_key
from models.correlation.algorithm import canonical_labels, cluster_countries, correlate_country
from models.statimpute.algorithm import InterpolationError, fill_gaps
from models.statimpute.schemas import Direction, Method
from models.survey.algorithm import cluster_survey, elbow_k
from models.twolvlImp.schemas import Interpolator, Interval, Model, PredictRequest, Scheme
from models.twolvlImp.tasks import PREDICT

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


# ---- cache keys --------------------------------------------------------------------------------

predict_fields = st.fixed_dictionaries(
    {
        "target_year": st.integers(2000, 2022),
        "dataset": st.sampled_from(["wdi", "gho"]),
        "target": st.text(min_size=1, max_size=12),
        "scheme": st.sampled_from(list(Scheme)),
        "number_predictor": st.integers(1, 50),
        "interpolator": st.sampled_from(list(Interpolator)),
        "estimators": st.integers(1, 500),
        "model": st.sampled_from(list(Model)),
        "interval": st.sampled_from(list(Interval)),
    }
)


@FAST
@given(fields=predict_fields, data=st.data())
def test_cache_key_ignores_key_order_and_enum_spelling(fields, data) -> None:
    spelled = {
        name: value.value if data.draw(st.booleans()) and hasattr(value, "value") else value
        for name, value in fields.items()
    }
    year_as_text = {**spelled, "target_year": str(fields["target_year"])}
    shuffled = dict(data.draw(st.permutations(list(year_as_text.items()))))
    first = cache_key("v1", PREDICT, PredictRequest.model_validate(fields))
    assert cache_key("v1", PREDICT, PredictRequest.model_validate(shuffled)) == first
    assert cache_key("v2", PREDICT, PredictRequest.model_validate(fields)) != first


@FAST
@given(fields=predict_fields, estimators=st.integers(1, 500))
def test_cache_key_changes_with_the_request(fields, estimators) -> None:
    changed = {**fields, "estimators": estimators}
    same = estimators == fields["estimators"]
    keys = {cache_key("v", PREDICT, PredictRequest.model_validate(d)) for d in (fields, changed)}
    assert len(keys) == (1 if same else 2)


# ---- interpolation ----------------------------------------------------------------------------

series_values = st.lists(st.one_of(st.none(), finite), min_size=2, max_size=15)


@FAST
@given(
    values=series_values,
    method=st.sampled_from(list(Method)),
    direction=st.sampled_from(list(Direction)),
    order=st.integers(1, 5),
)
def test_interpolation_keeps_observed_values_and_fills_finitely(
    values, method, direction, order
) -> None:
    series = pd.Series(
        [np.nan if v is None else v for v in values], index=range(2000, 2000 + len(values))
    )
    try:
        filled = fill_gaps(series, method, direction, order)
    except InterpolationError:
        return  # a clear, reported refusal (a 422 at the API), never a crash
    observed = series.notna()
    assert filled[observed].equals(series[observed])
    assert np.isfinite(filled.dropna()).all()
    assert list(filled.index) == list(series.index)


# ---- clustering -------------------------------------------------------------------------------


@FAST
@given(costs=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=20))
def test_elbow_is_always_a_valid_k(costs) -> None:
    assert 1 <= elbow_k(costs) <= len(costs)


@FAST
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.floats(-100, 100, allow_nan=False)),
        min_size=2,
        max_size=25,
    ),
    max_k=st.integers(2, 6),
)
def test_survey_clustering_labels_every_row(rows, max_k) -> None:
    table = pd.DataFrame(rows, columns=["answer", "amount"])
    result = cluster_survey(table, ["answer"], ["amount"], min(max_k, len(table)))
    assert len(result.labels) == len(table)
    assert 1 <= result.k <= min(max_k, len(table))
    assert set(result.labels) == set(range(len(set(result.labels))))


@FAST
@given(
    table=st.lists(
        st.lists(st.one_of(st.none(), finite), min_size=3, max_size=3), min_size=2, max_size=12
    ),
    k=st.integers(1, 5),
)
def test_country_clustering_is_deterministic_and_fills_every_gap(table, k) -> None:
    frame = pd.DataFrame(
        [[np.nan if v is None else v for v in row] for row in table],
        index=[f"C{i}" for i in range(len(table))],
        columns=["x", "y", "z"],
    ).dropna(how="all")
    frame = frame.loc[:, frame.notna().any()]
    if frame.empty:
        return
    first = cluster_countries(frame, k)
    second = cluster_countries(frame, k)
    assert first.labels.equals(second.labels)
    assert not first.filled.isna().any().any()
    observed = frame.notna().to_numpy()
    assert np.allclose(first.filled.to_numpy()[observed], frame.to_numpy()[observed])


@FAST
@given(labels=st.lists(st.integers(0, 9), min_size=1, max_size=30))
def test_canonical_labels_number_by_first_appearance(labels) -> None:
    canonical = canonical_labels(np.array(labels))
    assert canonical[0] == 0
    seen: list[int] = []
    for value in canonical:
        if value not in seen:
            assert value == len(seen)
            seen.append(value)


@FAST
@given(profile=st.lists(finite, min_size=5, max_size=9, unique=True))
def test_a_country_correlates_perfectly_with_its_twin(profile) -> None:
    frame = pd.DataFrame({"A": profile, "B": profile, "C": profile[::-1]}).T
    ranked = correlate_country(frame, "A")
    assert "A" not in ranked.index
    assert ranked.index[0] == "B" and abs(ranked["B"] - 1) < 1e-9
    assert ((ranked >= -1) & (ranked <= 1)).all()
