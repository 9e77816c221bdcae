"""The dataset store: loading, validation, versions and the manager's error handling."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from common.core.errors import DatasetInvalid, DataUnavailable
from common.core.settings import Settings
from common.core.sids import SIDS
from common.data.datasets import DEMO_SOURCE, DatasetManager, parse_dataset, read_folder
from common.data.files import DATA_FILE, DATASET_META_FILE, INDICATOR_META_FILE


@pytest.fixture
def dataset_copy(demo_dataset_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the demo dataset."""
    folder = tmp_path / "data"
    shutil.copytree(demo_dataset_dir, folder)
    return folder


def _replace(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    path.write_text(path.read_text().replace(old, new, 1))


def test_store_holds_every_value_of_the_csv(demo_dataset_dir: Path) -> None:
    store = parse_dataset(read_folder(demo_dataset_dir))
    data = pd.read_csv(demo_dataset_dir / DATA_FILE)
    row = data.dropna(subset=["2010"]).iloc[7]
    matrix = store.year_matrix(2010)
    assert matrix.at[row["Country Code"], row["Indicator Code"]] == pytest.approx(row["2010"])
    assert np.isnan(store.values).sum() >= data.iloc[:, 2:].isna().sum().sum()
    assert store.years == tuple(int(c) for c in data.columns[2:])


def test_years_come_from_the_data_not_a_fixed_range(dataset_copy: Path) -> None:
    path = dataset_copy / DATA_FILE
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace(",2022", ",2031")
    path.write_text("\n".join(lines) + "\n")
    store = parse_dataset(read_folder(dataset_copy))
    assert store.years[-1] == 2031


def test_version_is_stable_and_changes_with_content(dataset_copy: Path) -> None:
    first = read_folder(dataset_copy).version
    assert read_folder(dataset_copy).version == first
    _replace(dataset_copy, DATASET_META_FILE, "(demo)", "(demo v2)")
    assert read_folder(dataset_copy).version != first


def test_sids_mask_marks_sids_rows(demo_dataset_dir: Path) -> None:
    store = parse_dataset(read_folder(demo_dataset_dir))
    marked = set(store.countries[store.sids_mask])
    assert marked == SIDS & set(store.countries)
    assert marked


def test_missing_file_is_named(dataset_copy: Path) -> None:
    (dataset_copy / INDICATOR_META_FILE).unlink()
    with pytest.raises(DatasetInvalid, match=INDICATOR_META_FILE):
        read_folder(dataset_copy)


@pytest.mark.parametrize(
    ("name", "column"),
    [
        (DATA_FILE, "Country Code"),
        (DATA_FILE, "Indicator Code"),
        (INDICATOR_META_FILE, "Category"),
        (INDICATOR_META_FILE, "Dataset"),
        (DATASET_META_FILE, "Dataset Name"),
    ],
)
def test_missing_column_is_named(dataset_copy: Path, name: str, column: str) -> None:
    _replace(dataset_copy, name, column, "Renamed")
    with pytest.raises(DatasetInvalid, match=f"{name}.*{column}"):
        parse_dataset(read_folder(dataset_copy))


def test_non_numeric_value_is_reported(dataset_copy: Path) -> None:
    path = dataset_copy / DATA_FILE
    lines = path.read_text().splitlines()
    cells = lines[1].split(",")
    cells[5] = "n/a?"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetInvalid, match="non-numeric"):
        parse_dataset(read_folder(dataset_copy))


def test_duplicate_rows_are_rejected(dataset_copy: Path) -> None:
    path = dataset_copy / DATA_FILE
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(DatasetInvalid, match="duplicate"):
        parse_dataset(read_folder(dataset_copy))


def test_indicator_without_metadata_is_rejected(dataset_copy: Path) -> None:
    path = dataset_copy / DATA_FILE
    lines = path.read_text().splitlines()
    cells = lines[1].split(",")
    cells[1] = "unknown-indicator"
    path.write_text("\n".join([*lines, ",".join(cells)]) + "\n")
    with pytest.raises(DatasetInvalid, match=r"no row in indicatorMeta\.csv"):
        parse_dataset(read_folder(dataset_copy))


def test_truncated_file_is_rejected(dataset_copy: Path) -> None:
    path = dataset_copy / DATA_FILE
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DatasetInvalid):
        parse_dataset(read_folder(dataset_copy))


def test_manager_serves_demo_data_when_folder_is_empty(tmp_path: Path) -> None:
    manager = DatasetManager(Settings(dataset_path=tmp_path / "absent"))
    store = manager.load()
    assert store is not None and store.source == DEMO_SOURCE
    assert manager.error is None


def test_manager_without_fallback_reports_missing_files(tmp_path: Path) -> None:
    manager = DatasetManager(Settings(dataset_path=tmp_path, demo_data_fallback=False))
    assert manager.load() is None
    assert manager.error is not None and DATA_FILE in manager.error
    with pytest.raises(DataUnavailable, match=DATA_FILE):
        manager.require_store()


def test_partial_folder_is_an_error_not_demo_data(dataset_copy: Path) -> None:
    (dataset_copy / DATASET_META_FILE).unlink()
    manager = DatasetManager(Settings(dataset_path=dataset_copy))
    assert manager.load() is None
    assert manager.error is not None and DATASET_META_FILE in manager.error


def test_failed_reload_keeps_the_previous_store(dataset_copy: Path) -> None:
    manager = DatasetManager(Settings(dataset_path=dataset_copy, demo_data_fallback=False))
    first = manager.load()
    assert first is not None
    (dataset_copy / DATA_FILE).write_text("Country Code,Indicator Code\n")
    assert manager.load() is first
    assert manager.store is first
    assert manager.error is not None and "year columns" in manager.error


def test_memo_computes_once(demo_dataset_dir: Path) -> None:
    store = parse_dataset(read_folder(demo_dataset_dir))
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return 42

    assert store.memo("key", compute) == 42
    assert store.memo("key", compute) == 42
    assert len(calls) == 1


def test_file_cut_inside_a_value_is_rejected(dataset_copy: Path) -> None:
    path = dataset_copy / DATA_FILE
    content = path.read_bytes()
    cut = content.rindex(b",", 0, len(content) // 2) + 3  # inside a number, mid-row
    path.write_bytes(content[:cut])
    with pytest.raises(DatasetInvalid, match="truncated"):
        parse_dataset(read_folder(dataset_copy))


def test_short_last_row_is_rejected(dataset_copy: Path) -> None:
    path = dataset_copy / DATA_FILE
    lines = path.read_text().splitlines()
    lines[-1] = ",".join(lines[-1].split(",")[:5])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetInvalid, match="5 fields"):
        parse_dataset(read_folder(dataset_copy))
