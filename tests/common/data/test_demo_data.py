"""Tests for the synthetic demo dataset generator."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from common.core.sids import SIDS
from common.data.demo_data import DEMO_YEARS, build_demo_dataset, write_demo_dataset

REPO_ROOT = Path(__file__).resolve().parents[3]
FILES = ("indicatorData.csv", "indicatorMeta.csv", "datasetMeta.csv")
YEAR_COLUMNS = [str(year) for year in DEMO_YEARS]
DATA_COLUMNS = ["Country Code", "Indicator Code", *YEAR_COLUMNS]
META_COLUMNS = [
    "Indicator Code", "Indicator", "Dimension", "Category", "Dataset", "Units", "Definition",
    "Source",
]  # fmt: skip
DATASET_COLUMNS = ["Dataset Code", "Dataset Name"]
GUARANTEE_SEEDS = (0, 1, 2, 3, 4)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """The seed-0 dataset as read back from its CSV files."""
    folder = tmp_path_factory.mktemp("demo")
    write_demo_dataset(folder, seed=0)
    return {name: pd.read_csv(folder / name) for name in FILES}


@pytest.fixture(scope="module")
def data(written: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return written["indicatorData.csv"]


@pytest.fixture(scope="module")
def meta(written: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return written["indicatorMeta.csv"]


def _missing_share(data: pd.DataFrame) -> pd.DataFrame:
    """Share of countries missing per (indicator, year), counting absent rows as missing."""
    countries = sorted(data["Country Code"].unique())
    grid = pd.MultiIndex.from_product([countries, sorted(data["Indicator Code"].unique())])
    values = data.set_index(["Country Code", "Indicator Code"])[YEAR_COLUMNS].reindex(grid)
    return values.isna().groupby(level=1).mean()


def _sids_missing_count(data: pd.DataFrame) -> pd.DataFrame:
    """Number of SIDS missing per (indicator, year), counting absent rows as missing."""
    grid = pd.MultiIndex.from_product([sorted(SIDS), sorted(data["Indicator Code"].unique())])
    values = data.set_index(["Country Code", "Indicator Code"])[YEAR_COLUMNS].reindex(grid)
    return values.isna().groupby(level=1).sum()


def test_demo_years_are_2005_to_2022() -> None:
    assert tuple(range(2005, 2023)) == DEMO_YEARS


def test_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    write_demo_dataset(tmp_path / "a", seed=7)
    write_demo_dataset(tmp_path / "b", seed=7)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    write_demo_dataset(tmp_path / "a", seed=0)
    write_demo_dataset(tmp_path / "b", seed=1)
    name = "indicatorData.csv"
    assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


def test_write_creates_missing_nested_folder(tmp_path: Path) -> None:
    folder = tmp_path / "nested" / "datasets"
    write_demo_dataset(folder)
    assert sorted(path.name for path in folder.iterdir()) == sorted(FILES)


def test_built_frames_have_the_csv_column_layout() -> None:
    data, meta, datasets = build_demo_dataset()
    assert list(data.columns) == DATA_COLUMNS
    assert list(meta.columns) == META_COLUMNS
    assert list(datasets.columns) == DATASET_COLUMNS


def test_written_csvs_have_exactly_the_platform_columns(written: dict[str, pd.DataFrame]) -> None:
    assert list(written["indicatorData.csv"].columns) == DATA_COLUMNS
    assert list(written["indicatorMeta.csv"].columns) == META_COLUMNS
    assert list(written["datasetMeta.csv"].columns) == DATASET_COLUMNS


def test_year_columns_hold_floats(data: pd.DataFrame) -> None:
    assert all(pd.api.types.is_float_dtype(data[year]) for year in YEAR_COLUMNS)


def test_every_data_indicator_is_described_in_meta(data: pd.DataFrame, meta: pd.DataFrame) -> None:
    assert meta["Indicator Code"].is_unique
    assert set(data["Indicator Code"]) == set(meta["Indicator Code"])


def test_every_meta_dataset_is_listed_in_dataset_meta(
    meta: pd.DataFrame, written: dict[str, pd.DataFrame]
) -> None:
    datasets = written["datasetMeta.csv"]
    assert datasets["Dataset Code"].is_unique
    assert set(meta["Dataset"]) <= set(datasets["Dataset Code"])


def test_indicator_codes_are_dataset_prefixed_slugs(meta: pd.DataFrame) -> None:
    prefixes = meta["Indicator Code"].str.split("-", n=1).str[0]
    assert (prefixes == meta["Dataset"]).all()
    assert meta["Indicator Code"].str.fullmatch(r"[a-z_]+-[a-z0-9_]+").all()


def test_meta_describes_about_sixty_indicators_in_four_datasets(meta: pd.DataFrame) -> None:
    assert 55 <= len(meta) <= 70
    assert meta["Dataset"].nunique() == 4
    assert meta["Category"].nunique() >= 6
    assert meta["Dimension"].nunique() < len(meta)  # some indicators share a dimension
    assert meta[["Indicator", "Dimension", "Units", "Definition"]].notna().all().all()
    assert (meta["Source"] == "Synthetic demo data").all()


def test_all_sids_are_present(data: pd.DataFrame) -> None:
    assert set(data["Country Code"]) >= SIDS


def test_about_170_countries_with_iso3_codes(data: pd.DataFrame) -> None:
    countries = set(data["Country Code"])
    assert 160 <= len(countries) <= 180
    assert len(countries - SIDS) >= 100
    assert all(len(code) == 3 and code.isupper() for code in countries)


def test_rows_are_unique_pairs_with_at_least_one_value(data: pd.DataFrame) -> None:
    assert not data.duplicated(["Country Code", "Indicator Code"]).any()
    assert data[YEAR_COLUMNS].notna().any(axis=1).all()


def test_percent_indicators_stay_within_0_and_100(data: pd.DataFrame, meta: pd.DataFrame) -> None:
    shares = meta.loc[meta["Indicator"].str.contains(r"\(% of", regex=True), "Indicator Code"]
    values = data.loc[data["Indicator Code"].isin(shares), YEAR_COLUMNS].to_numpy()
    assert np.nanmin(values) >= 0
    assert np.nanmax(values) <= 100


@pytest.mark.parametrize("seed", GUARANTEE_SEEDS)
def test_every_year_has_at_least_25_usable_predictors(seed: int) -> None:
    data = build_demo_dataset(seed)[0]
    usable = (_missing_share(data) < 0.3).sum()
    assert (usable >= 25).all(), usable[usable < 25]


@pytest.mark.parametrize("seed", GUARANTEE_SEEDS)
def test_every_year_has_sids_imputation_targets_in_two_datasets(seed: int) -> None:
    data, meta, _ = build_demo_dataset(seed)
    targets = (_missing_share(data) < 0.8) & (_sids_missing_count(data) > 0)
    dataset_of = meta.set_index("Indicator Code")["Dataset"]
    for year in YEAR_COLUMNS:
        codes = targets.index[targets[year]]
        assert len(codes) >= 8, year
        assert dataset_of[codes].nunique() >= 2, year


def test_missingness_varies_by_indicator(data: pd.DataFrame) -> None:
    overall = _missing_share(data).mean(axis=1)
    assert overall.between(0.05, 0.25).sum() >= len(overall) // 2
    assert (overall > 0.4).sum() >= 3


def test_sids_have_more_missing_values_than_other_countries(data: pd.DataFrame) -> None:
    countries = sorted(data["Country Code"].unique())
    grid = pd.MultiIndex.from_product([countries, sorted(data["Indicator Code"].unique())])
    missing = data.set_index(["Country Code", "Indicator Code"])[YEAR_COLUMNS].reindex(grid)
    by_country = missing.isna().groupby(level=0).mean().mean(axis=1)
    is_sids = by_country.index.isin(SIDS)
    assert by_country[is_sids].mean() > 1.3 * by_country[~is_sids].mean()


def test_some_series_are_absent_and_some_have_inner_gaps(data: pd.DataFrame) -> None:
    n_pairs = data["Country Code"].nunique() * data["Indicator Code"].nunique()
    assert len(data) < 0.95 * n_pairs
    observed = data[YEAR_COLUMNS].notna().to_numpy()
    first = observed.argmax(axis=1)
    last = observed.shape[1] - 1 - observed[:, ::-1].argmax(axis=1)
    inner = [not row[lo : hi + 1].all() for row, lo, hi in zip(observed, first, last, strict=True)]
    assert sum(inner) > 0.05 * len(data)


def test_later_years_are_more_missing(data: pd.DataFrame) -> None:
    by_year = _missing_share(data).mean()
    assert by_year[YEAR_COLUMNS[-1]] > by_year[YEAR_COLUMNS[5:-5]].mean()


def test_indicators_correlate_across_countries(data: pd.DataFrame) -> None:
    wide = data.pivot(index="Country Code", columns="Indicator Code", values="2015")
    r = wide.corr(min_periods=30).abs().to_numpy()
    pairs = r[np.triu_indices_from(r, k=1)]
    assert (pairs > 0.6).sum() >= 20


def test_series_are_smooth_over_time(data: pd.DataFrame) -> None:
    for code, rows in data.groupby("Indicator Code"):
        values = rows[YEAR_COLUMNS].to_numpy()
        step = np.nanmedian(np.abs(np.diff(values, axis=1)))
        spread = np.nanstd(rows["2015"])
        assert step < 0.15 * spread, code


def test_command_line_writes_the_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "datasets"
    subprocess.run(
        [sys.executable, "-m", "common.data.demo_data", str(folder), "--seed", "5"],
        cwd=REPO_ROOT,
        check=True,
    )
    write_demo_dataset(tmp_path / "direct", seed=5)
    for name in FILES:
        assert (folder / name).read_bytes() == (tmp_path / "direct" / name).read_bytes()
