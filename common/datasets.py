"""The dataset store: the three platform CSVs, validated, loaded once and reshaped for models.

`IndicatorStore` holds a country x indicator x year cube plus metadata, and a memo where models
keep what they derive from the data (option lists, ranks), so that nothing that does not depend on
the request is computed twice. `DatasetManager` owns the current store of a process and the
error of the last load, which `/readyz` reports.
"""

import csv
import hashlib
import io
import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from common.errors import DataUnavailable
from common.settings import Settings
from common.sids import SIDS

logger = logging.getLogger(__name__)

DATA_FILE = "indicatorData.csv"
INDICATOR_META_FILE = "indicatorMeta.csv"
DATASET_META_FILE = "datasetMeta.csv"
DATASET_FILES = (DATA_FILE, INDICATOR_META_FILE, DATASET_META_FILE)

COUNTRY = "Country Code"
INDICATOR = "Indicator Code"
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    DATA_FILE: (COUNTRY, INDICATOR),
    INDICATOR_META_FILE: (INDICATOR, "Indicator", "Dimension", "Category", "Dataset"),
    DATASET_META_FILE: ("Dataset Code", "Dataset Name"),
}
DEMO_SOURCE = "built-in demo dataset"

T = TypeVar("T")


class DatasetError(Exception):
    """The dataset files are missing or malformed; the message names the file and column."""


@dataclass(frozen=True)
class RawDataset:
    """The bytes of the three files and where they came from."""

    files: dict[str, bytes]
    source: str

    @property
    def version(self) -> str:
        """A content hash of the three files: the dataset version every response carries."""
        digest = hashlib.sha256()
        for name in DATASET_FILES:
            digest.update(name.encode())
            digest.update(hashlib.sha256(self.files[name]).digest())
        return digest.hexdigest()[:16]


@dataclass
class IndicatorStore:
    """One loaded dataset: a values cube `[year, country, indicator]` and its metadata."""

    version: str
    source: str
    years: tuple[int, ...]
    countries: pd.Index
    indicators: pd.Index
    values: np.ndarray
    indicator_meta: pd.DataFrame
    dataset_names: dict[str, str]
    _memo: dict[Hashable, Any] = field(default_factory=dict, repr=False)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def sids_mask(self) -> np.ndarray:
        """Which rows of a year matrix are SIDS."""
        return self.memo(("sids_mask",), lambda: self.countries.isin(list(SIDS)))

    def year_index(self, year: int) -> int:
        return self.years.index(year)

    def year_matrix(self, year: int) -> pd.DataFrame:
        """The country x indicator values of one year (a read-only view: copy before changing)."""
        return pd.DataFrame(
            self.values[self.year_index(year)],
            index=self.countries,
            columns=self.indicators,
            copy=False,
        )

    def missing_fraction(self, year: int) -> pd.Series:
        """The share of countries missing each indicator in a year."""
        return self.memo(
            ("missing_fraction", year),
            lambda: pd.Series(
                np.isnan(self.values[self.year_index(year)]).mean(axis=0), index=self.indicators
            ),
        )

    def indicators_of(self, dataset: str, category: str | None = None) -> pd.Index:
        """The codes of a dataset's indicators, optionally of one category only."""
        meta = self.indicator_meta
        selected = meta["Dataset"] == dataset
        if category is not None:
            selected &= meta["Category"] == category
        return meta.index[selected]

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Compute a value derived from this dataset once, and reuse it afterwards."""
        if key in self._memo:
            return self._memo[key]
        value = compute()
        with self._memo_lock:
            return self._memo.setdefault(key, value)


def read_folder(folder: Path) -> RawDataset:
    """Read the three files from a folder; a missing file is a `DatasetError` naming it."""
    missing = [name for name in DATASET_FILES if not (folder / name).is_file()]
    if missing:
        raise DatasetError(f"{', '.join(missing)} not found in {folder}")
    return RawDataset({name: (folder / name).read_bytes() for name in DATASET_FILES}, str(folder))


def demo_raw_dataset() -> RawDataset:
    """The built-in demo dataset, serialised exactly as it would be on disk."""
    from common.demo_data import build_demo_dataset

    frames = build_demo_dataset()
    files = {name: frame.to_csv(index=False).encode() for name, frame in zip(DATASET_FILES, frames)}
    return RawDataset(files, DEMO_SOURCE)


def parse_dataset(raw: RawDataset) -> IndicatorStore:
    """Validate the three files and build the store; any problem is a `DatasetError`."""
    data = _read_csv(raw, DATA_FILE)
    meta = _read_csv(raw, INDICATOR_META_FILE)
    dataset_meta = _read_csv(raw, DATASET_META_FILE)
    year_columns = _year_columns(data)
    _check_unique(data, [COUNTRY, INDICATOR], DATA_FILE)
    _check_unique(meta, [INDICATOR], INDICATOR_META_FILE)
    unknown = sorted(set(data[INDICATOR]) - set(meta[INDICATOR]))
    if unknown:
        raise DatasetError(
            f"{DATA_FILE}: {len(unknown)} indicator codes have no row in {INDICATOR_META_FILE}, "
            f"e.g. {unknown[:5]}"
        )
    values = _numeric_block(data, year_columns)
    countries = pd.Index(sorted(data[COUNTRY].unique()), name=COUNTRY)
    indicators = pd.Index(sorted(data[INDICATOR].unique()), name=INDICATOR)
    cube = _to_cube(data, values, countries, indicators)
    return IndicatorStore(
        version=raw.version,
        source=raw.source,
        years=tuple(int(column) for column in year_columns),
        countries=countries,
        indicators=indicators,
        values=cube,
        indicator_meta=meta.set_index(INDICATOR).reindex(indicators),
        dataset_names=dict(zip(dataset_meta["Dataset Code"], dataset_meta["Dataset Name"])),
    )


def _read_csv(raw: RawDataset, name: str) -> pd.DataFrame:
    _check_not_truncated(raw.files[name], name)
    try:
        frame = pd.read_csv(io.BytesIO(raw.files[name]), dtype={COUNTRY: str, INDICATOR: str})
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DatasetError(f"{name}: cannot be parsed as CSV ({error})") from error
    for column in REQUIRED_COLUMNS[name]:
        if column not in frame.columns:
            raise DatasetError(f"{name}: required column {column!r} is missing")
        if frame[column].isna().any():
            raise DatasetError(f"{name}: column {column!r} has empty values")
    return frame


def _check_not_truncated(content: bytes, name: str) -> None:
    """A file cut short (a copy interrupted, a disk full) must not load: pandas would pad its last
    row with blanks. Complete files end with a line break and a row as wide as the header."""
    if content and not content.endswith((b"\n", b"\r")):
        raise DatasetError(f"{name}: does not end with a line break: the file looks truncated")
    lines = [line for line in content.decode(errors="replace").splitlines() if line.strip()]
    if len(lines) < 2:
        return
    header, last = (next(csv.reader([line])) for line in (lines[0], lines[-1]))
    if len(last) != len(header):
        raise DatasetError(
            f"{name}: the last row has {len(last)} fields but the header {len(header)}: "
            "the file looks truncated"
        )


def _year_columns(data: pd.DataFrame) -> list[str]:
    years = [column for column in data.columns if str(column).strip().isdigit()]
    if not years:
        raise DatasetError(f"{DATA_FILE}: no year columns (such as '2000') found")
    return years


def _check_unique(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    duplicated = frame.duplicated(columns)
    if duplicated.any():
        example = frame.loc[duplicated, columns].iloc[0].tolist()
        raise DatasetError(f"{name}: duplicate rows for {columns} such as {example}")


def _numeric_block(data: pd.DataFrame, year_columns: list[str]) -> np.ndarray:
    if data.empty:
        raise DatasetError(f"{DATA_FILE}: no data rows")
    for column in year_columns:
        converted = pd.to_numeric(data[column], errors="coerce")
        bad = data[column][converted.isna() & data[column].notna()]
        if len(bad):
            raise DatasetError(
                f"{DATA_FILE}: column {column!r} has non-numeric values such as {bad.iloc[0]!r}"
            )
    block = data[year_columns].apply(pd.to_numeric).to_numpy(dtype=np.float64)
    if np.isinf(block).any():
        raise DatasetError(f"{DATA_FILE}: infinite values in the year columns")
    return block


def _to_cube(
    data: pd.DataFrame, values: np.ndarray, countries: pd.Index, indicators: pd.Index
) -> np.ndarray:
    cube = np.full((values.shape[1], len(countries), len(indicators)), np.nan)
    rows = countries.get_indexer(data[COUNTRY])
    columns = indicators.get_indexer(data[INDICATOR])
    cube[:, rows, columns] = values.T
    cube.setflags(write=False)
    return cube


class ReloadStatus(str, Enum):
    """What a reload did."""

    loaded = "loaded"
    unchanged = "unchanged"
    failed = "failed"


class DatasetManager:
    """Owns the store of this process: loads and reloads it, keeps the last error for `/readyz`.

    A reload that fails (missing or malformed file) keeps the previous store in service: a
    process never serves half-loaded or invalid data.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self.store: IndicatorStore | None = None
        self.error: str | None = "dataset not loaded yet"
        self.files: list[str] = []

    def load(self) -> IndicatorStore | None:
        """Load the dataset (again); on failure keep serving the previous one, if any."""
        self.reload(only_if_changed=False)
        return self.store

    def reload(self, only_if_changed: bool = True) -> ReloadStatus:
        """Read the files; parse and swap them in unless unchanged (same content hash)."""
        with self._lock:
            try:
                raw = self._read()
                if only_if_changed and self.store and raw.version == self.store.version:
                    self.error = None
                    return ReloadStatus.unchanged
                store = parse_dataset(raw)
            except (DatasetError, OSError) as error:
                self.error = str(error)
                logger.error("dataset load failed: %s", error)
                return ReloadStatus.failed
            self.store, self.error = store, None
        logger.info(
            "dataset %s loaded from %s: %d countries, %d indicators, years %d-%d",
            store.version,
            store.source,
            len(store.countries),
            len(store.indicators),
            store.years[0],
            store.years[-1],
        )
        return ReloadStatus.loaded

    def watch(self, stop: threading.Event) -> None:
        """Reload whenever the files change, checking every DATASET_CHECK_INTERVAL seconds."""
        while not stop.wait(self._settings.dataset_check_interval):
            self.reload()

    def require_store(self) -> IndicatorStore:
        """The loaded store, or a 503 saying why there is none."""
        if self.store is None:
            raise DataUnavailable(f"dataset unavailable: {self.error}")
        return self.store

    def _read(self) -> RawDataset:
        folder = self._settings.dataset_path
        self.files = (
            sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        )
        if self._settings.demo_data_fallback and not set(DATASET_FILES) & set(self.files):
            logger.warning("no dataset files in %s: serving the built-in demo dataset", folder)
            return demo_raw_dataset()
        return read_folder(folder)
