"""Survey tables for the clustering tests, generated from a seed (no fixture files)."""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

CATEGORICAL = ("water_source", "roof", "toilet")
CONTINUOUS = ("income", "household_size", "distance_km")
MIXED_CATEGORICAL = ("fuel",)
MIXED_CONTINUOUS = ("land_ha",)
FACTORS = {"living": "categorical", "economy": "continuous", "assets": "mixed"}
# Answers of the categorical questions by group, so that groups are clearly apart.
ANSWERS = {  # group g answers ANSWERS[question][g]
    "water_source": ("piped", "well", "river", "rain"),
    "roof": ("metal", "thatch", "tile", "wood"),
    "toilet": ("flush", "pit", "none", "shared"),
    "fuel": ("gas", "wood", "kerosene", "solar"),
}
# Centres of the groups on the continuous questions: the first three apart as the corners of a
# triangle (a clear elbow at 3; groups on a line make 2 clusters almost as good).
CENTRES = {
    "income": (0.0, 100.0, 50.0, 50.0),
    "household_size": (0.0, 0.0, 87.0, -87.0),
    "distance_km": (5.0, 5.0, 5.0, 5.0),
    "land_ha": (0.0, 100.0, 50.0, 150.0),
}
# How rows lose their coordinates, in turn: each must drop the row.
NO_GPS = (
    {"lat": None},
    {"lon": "n/a"},
    {"lat": ""},
    {"drop": "lon"},
)


@dataclass
class SurveyCase:
    """A generated survey: records, metadata, the true group of each row and the GPS-less rows."""

    records: list[dict[str, Any]]
    metadata: list[dict[str, Any]]
    groups: np.ndarray
    no_gps: list[int] = field(default_factory=list)

    def request(self, factor: str, max_k: int = 6, **change: Any) -> dict[str, Any]:
        return {
            "data": self.records,
            "metadata": self.metadata,
            "factor": factor,
            "max_k": max_k,
            **change,
        }

    @property
    def kept_rows(self) -> int:
        return len(self.records) - len(self.no_gps)


def make_survey(
    n_rows: int = 60,
    n_groups: int = 3,
    seed: int = 0,
    no_gps_every: int = 7,
    missing_share: float = 0.0,
) -> SurveyCase:
    """Rows in `n_groups` clearly separated groups; every `no_gps_every`-th row lacks GPS."""
    rng = np.random.default_rng(seed)
    groups = rng.permutation(np.arange(n_rows) % n_groups)
    records = []
    for row, group in enumerate(groups):
        record: dict[str, Any] = {"household_id": f"HH{row:04d}"}
        record["lat"] = float(-17.8 + rng.random())
        record["lon"] = float(178.0 + rng.random())
        for name in CATEGORICAL + MIXED_CATEGORICAL:
            record[name] = ANSWERS[name][group]
        for name in CONTINUOUS + MIXED_CONTINUOUS:
            record[name] = float(CENTRES[name][group] + rng.normal())
        for name in CATEGORICAL + CONTINUOUS + MIXED_CATEGORICAL + MIXED_CONTINUOUS:
            if rng.random() < missing_share:
                record[name] = None
        records.append(record)
    no_gps = list(range(3, n_rows, no_gps_every))
    for turn, row in enumerate(no_gps):
        change = dict(NO_GPS[turn % len(NO_GPS)])
        dropped = change.pop("drop", None)
        if dropped:
            del records[row][dropped]
        records[row].update(change)
    return SurveyCase(records, survey_metadata(), groups, no_gps)


def survey_metadata() -> list[dict[str, Any]]:
    """Metadata of `make_survey`'s questions, with the JSON keys the front end sends."""

    def question(name: str, kind: str, factor: str | None) -> dict[str, Any]:
        return {"Question Name": name, "Type": kind, "Factor": factor}

    return [
        question("lat", "GPS latitude", "location"),
        question("lon", "GPS longitude", None),
        *(question(name, "categorical", "living") for name in CATEGORICAL),
        *(question(name, "continuous", "economy") for name in CONTINUOUS),
        *(question(name, "categorical", "assets") for name in MIXED_CATEGORICAL),
        *(question(name, "continuous", "assets") for name in MIXED_CONTINUOUS),
    ]


@pytest.fixture(scope="session")
def survey() -> SurveyCase:
    """A 60-row survey in three groups; rows 3, 10, 17, ... have no usable GPS coordinates."""
    return make_survey()


@pytest.fixture(scope="session")
def survey_factory():
    """`make_survey`, for tests that need another table."""
    return make_survey
