"""Checks of a survey clustering request: each problem is a 422 naming the field at fault.

The survey table may come in pandas' records orient (a list of row objects) or columns orient
(an object of columns, each a list or an object keyed by row); rows keep their input order (for
keyed columns, the order in which row keys first appear).
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from common.core.errors import InvalidParameter
from common.core.settings import Settings
from models.survey.algorithm import as_numbers, gps_rows
from models.survey.schemas import ClusteringRequest, Question, QuestionType

# More clusters than this is not a survey summary, and each k costs a fit.
MAX_K = 20
MIN_ROWS = 2
CLUSTERED_TYPES = (QuestionType.categorical, QuestionType.continuous)
GPS_TYPES = (QuestionType.latitude, QuestionType.longitude)


@dataclass(frozen=True)
class Survey:
    """A checked request: every input row, which of them to cluster, and on which questions."""

    table: pd.DataFrame
    kept: np.ndarray  # rows with GPS coordinates
    categorical: list[str]
    continuous: list[str]


@dataclass(frozen=True)
class SizeLimits:
    """The largest survey table a request may make (settings SURVEY_MAX_*)."""

    rows: int
    columns: int
    distinct_keys: int
    cells: int

    @classmethod
    def of(cls, settings: Settings) -> "SizeLimits":
        return cls(
            rows=settings.survey_max_rows,
            columns=settings.survey_max_columns,
            distinct_keys=settings.survey_max_distinct_keys,
            cells=settings.survey_max_cells,
        )


def check_size(data: Any, limits: SizeLimits) -> None:
    """Refuse data whose table would be too large, counting keys without building anything.

    Memory of a table grows with rows x distinct keys, not with the body's bytes: the limits are
    checked on the parsed JSON, stopping as soon as one is passed.
    """
    if isinstance(data, list):
        rows, columns = len(data), _distinct_keys(data, limits)
    elif isinstance(data, dict):
        columns = len(data)
        _check_limit(columns, limits.columns, "columns", "SURVEY_MAX_COLUMNS")
        rows = _column_rows(data.values(), limits)
    else:
        return  # not a table: survey_table says so
    _check_limit(rows, limits.rows, "rows", "SURVEY_MAX_ROWS")
    _check_limit(rows * columns, limits.cells, "cells (rows x columns)", "SURVEY_MAX_CELLS")


def _distinct_keys(rows: list[Any], limits: SizeLimits) -> int:
    _check_limit(len(rows), limits.rows, "rows", "SURVEY_MAX_ROWS")
    keys: set[Any] = set()
    for row in rows:
        if isinstance(row, dict):
            _check_limit(len(row), limits.columns, "keys in one row", "SURVEY_MAX_COLUMNS")
            keys.update(row)
            _check_limit(
                len(keys), limits.distinct_keys, "distinct keys", "SURVEY_MAX_DISTINCT_KEYS"
            )
    return len(keys)


def _column_rows(columns: Any, limits: SizeLimits) -> int:
    """The rows of a columns-orient table: the longest list, or the distinct row keys."""
    longest, row_keys = 0, set[Any]()
    for column in columns:
        if isinstance(column, list):
            longest = max(longest, len(column))
        elif isinstance(column, dict):
            row_keys.update(column)
            _check_limit(len(row_keys), limits.rows, "rows (distinct row keys)", "SURVEY_MAX_ROWS")
        _check_limit(longest, limits.rows, "rows", "SURVEY_MAX_ROWS")
    return max(longest, len(row_keys))


def _check_limit(count: int, limit: int, what: str, setting: str) -> None:
    if count > limit:
        raise InvalidParameter(
            f"data has more {what} than the limit of {limit:,} ({setting})",
            field="data",
            allowed=[1, limit],
        )


def check_request(request: ClusteringRequest) -> Survey:
    """Every check a clustering request must pass; raises `InvalidParameter`."""
    table = survey_table(request.data)
    _check_unique_names(request.metadata)
    categorical, continuous = factor_questions(request.metadata, request.factor)
    gps = [question.name for question in request.metadata if question.type in GPS_TYPES]
    used = categorical + continuous + gps
    _check_columns(table, used)
    _check_scalars(table, categorical + continuous)
    kept = gps_rows(table, gps)
    n_rows = int(kept.sum())
    _check_row_count(n_rows, gps)
    _check_max_k(request.max_k, n_rows)
    _check_continuous(table[kept], continuous)
    return Survey(table=table, kept=kept, categorical=categorical, continuous=continuous)


def survey_table(data: Any) -> pd.DataFrame:
    """The survey as a frame of Python objects, one row per input row, in input order."""
    if isinstance(data, list):
        table = _from_records(data)
    elif isinstance(data, dict):
        table = _from_columns(data)
    else:
        raise InvalidParameter(
            "data must be a list of row objects or an object of columns", field="data"
        )
    if len(table) == 0:
        raise InvalidParameter("data has no rows", field="data")
    return table


def factor_questions(metadata: list[Question], factor: str) -> tuple[list[str], list[str]]:
    """The categorical and continuous questions of a factor, in metadata order."""
    questions = [q for q in metadata if q.factor == factor and q.type in CLUSTERED_TYPES]
    if not questions:
        factors = [q.factor for q in metadata if q.type in CLUSTERED_TYPES and q.factor]
        raise InvalidParameter(
            f"factor {factor!r} has no categorical or continuous question in metadata",
            field="factor",
            allowed=list(dict.fromkeys(factors)),
        )
    categorical = [q.name for q in questions if q.type == QuestionType.categorical]
    continuous = [q.name for q in questions if q.type == QuestionType.continuous]
    return categorical, continuous


def _from_records(rows: list[Any]) -> pd.DataFrame:
    if not all(isinstance(row, dict) for row in rows):
        raise InvalidParameter("data: every row of a list of rows must be an object", field="data")
    return pd.DataFrame(rows, dtype=object)


def _from_columns(columns: dict[str, Any]) -> pd.DataFrame:
    values = list(columns.values())
    if all(isinstance(column, list) for column in values):
        if len({len(column) for column in values}) > 1:
            raise InvalidParameter("data: the columns have different lengths", field="data")
        return pd.DataFrame(columns, dtype=object)
    if all(isinstance(column, dict) for column in values):
        rows = list(dict.fromkeys(key for column in values for key in column))
        return pd.DataFrame(
            {name: [column.get(row) for row in rows] for name, column in columns.items()},
            dtype=object,
        )
    raise InvalidParameter(
        "data: in the columns orient every column must be a list or an object keyed by row",
        field="data",
    )


def _check_unique_names(metadata: list[Question]) -> None:
    repeated = [name for name, count in Counter(q.name for q in metadata).items() if count > 1]
    if repeated:
        raise InvalidParameter(
            f"metadata lists questions more than once: {repeated}", field="metadata"
        )


def _check_columns(table: pd.DataFrame, used: list[str]) -> None:
    missing = [name for name in used if name not in table.columns]
    if missing:
        raise InvalidParameter(
            f"metadata names questions that are not columns of data: {missing}",
            field="metadata",
            allowed=list(table.columns),
        )


def _check_scalars(table: pd.DataFrame, used: list[str]) -> None:
    for name in used:
        nested = table[name].map(lambda value: isinstance(value, dict | list)).astype(bool)
        if nested.any():
            raise InvalidParameter(
                f"data: question {name!r} has answers that are objects or lists; answers must "
                "be strings, numbers, booleans or null",
                field="data",
            )


def _check_row_count(n_rows: int, gps: list[str]) -> None:
    if n_rows < MIN_ROWS:
        raise InvalidParameter(
            f"data: {n_rows} rows have GPS coordinates (questions {gps}); "
            f"at least {MIN_ROWS} are needed",
            field="data",
        )


def _check_max_k(max_k: int, n_rows: int) -> None:
    upper = min(n_rows, MAX_K)
    if not MIN_ROWS <= max_k <= upper:
        raise InvalidParameter(
            f"max_k must be in {MIN_ROWS}..{upper} ({n_rows} rows have GPS coordinates, "
            f"at most {MAX_K} clusters are considered)",
            field="max_k",
            allowed=[MIN_ROWS, upper],
        )


def _check_continuous(rows: pd.DataFrame, continuous: list[str]) -> None:
    for name in continuous:
        invalid = as_numbers(rows[name])[1]
        if invalid.any():
            example = rows[name][invalid].iloc[0]
            raise InvalidParameter(
                f"data: continuous question {name!r} has non-numeric answers such as {example!r}",
                field="data",
            )
