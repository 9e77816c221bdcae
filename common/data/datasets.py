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
import re
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from common.core.errors import DatasetInvalid, DataUnavailable
from common.core.settings import Settings
from common.core.sids import SIDS
from common.data.files import DATA_FILE, DATASET_FILES, DATASET_META_FILE, INDICATOR_META_FILE
from common.data.shared_frames import SharedFrames

logger = logging.getLogger(__name__)

COUNTRY = "Country Code"
INDICATOR = "Indicator Code"
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    DATA_FILE: (COUNTRY, INDICATOR),
    INDICATOR_META_FILE: (INDICATOR, "Indicator", "Dimension", "Category", "Dataset"),
    DATASET_META_FILE: ("Dataset Code", "Dataset Name"),
}
DEMO_SOURCE = "built-in demo dataset"
MAX_ABS_VALUE: float = Settings.model_fields["dataset_max_abs_value"].default
# Columns of the data file other than the required ones and the years: text, ignored.
_YEAR = re.compile(r"^\d{4}$")

T = TypeVar("T")


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
    _shared: SharedFrames | None = field(default=None, repr=False)

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

    def share_matrices(self, shared: SharedFrames | None) -> None:
        """Where `shared_matrix` looks before computing (None: this process's memo only)."""
        self._shared = shared

    def shared_matrix(
        self,
        key: tuple[str, ...],
        index: pd.Index,
        columns: pd.Index,
        compute: Callable[[], pd.DataFrame],
    ) -> pd.DataFrame:
        """A matrix derived from this dataset, once per process (the memo) and, with a shared
        store, once per dataset version for every process using it (`SharedFrames`). `key`
        must name everything else the values depend on, the code's version included."""

        def load_or_compute() -> pd.DataFrame:
            if self._shared is None:
                return compute()
            return self._shared.frame("/".join((self.version, *key)), index, columns, compute)

        return self.memo(("shared_matrix", *key), load_or_compute)


def read_folder(folder: Path) -> RawDataset:
    """Read the three files from a folder; a missing file is a `DatasetInvalid` naming it."""
    missing = [name for name in DATASET_FILES if not (folder / name).is_file()]
    if missing:
        raise DatasetInvalid(f"{', '.join(missing)} not found in DATASET_PATH")
    return RawDataset({name: (folder / name).read_bytes() for name in DATASET_FILES}, str(folder))


def demo_raw_dataset() -> RawDataset:
    """The built-in demo dataset, serialised exactly as it would be on disk."""
    from common.data.demo_data import build_demo_dataset

    frames = build_demo_dataset()
    files = {name: frame.to_csv(index=False).encode() for name, frame in zip(DATASET_FILES, frames)}
    return RawDataset(files, DEMO_SOURCE)


def parse_dataset(raw: RawDataset, max_abs_value: float = MAX_ABS_VALUE) -> IndicatorStore:
    """Validate the three files and build the store; any problem is a `DatasetInvalid`.

    Beyond parsing, the files must agree (every indicator of the metadata has data rows, every
    dataset a name), which is how a file cut at a line break shows itself."""
    data = _read_csv(raw, DATA_FILE)
    meta = _read_csv(raw, INDICATOR_META_FILE)
    dataset_meta = _read_csv(raw, DATASET_META_FILE)
    year_columns = _year_columns(data)
    _check_unique(raw, data, [COUNTRY, INDICATOR], DATA_FILE)
    _check_unique(raw, meta, [INDICATOR], INDICATOR_META_FILE)
    _check_covered(raw, data, INDICATOR, DATA_FILE, set(meta[INDICATOR]), INDICATOR_META_FILE)
    _check_covered(raw, meta, INDICATOR, INDICATOR_META_FILE, set(data[INDICATOR]), DATA_FILE)
    _check_covered(
        raw, meta, "Dataset", INDICATOR_META_FILE, set(dataset_meta["Dataset Code"]),
        DATASET_META_FILE,
    )  # fmt: skip
    values = _numeric_block(raw, data, year_columns, max_abs_value)
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


def _line(raw: RawDataset, name: str, row: int) -> int:
    """The line of the file where data row `row` (0-based) starts; quoted values may span
    lines, so the file is read again (only when reporting an error)."""
    reader = csv.reader(io.StringIO(raw.files[name].decode(errors="replace")))
    next(reader, None)
    start = reader.line_num + 1
    for number, _ in enumerate(reader):
        if number == row:
            return start
        start = reader.line_num + 1
    return start


def _read_csv(raw: RawDataset, name: str) -> pd.DataFrame:
    _check_not_truncated(raw.files[name], name)
    try:
        frame = pd.read_csv(io.BytesIO(raw.files[name]), dtype={COUNTRY: str, INDICATOR: str})
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DatasetInvalid(f"{name}: cannot be parsed as CSV ({error})") from error
    for column in REQUIRED_COLUMNS[name]:
        if column not in frame.columns:
            raise DatasetInvalid(f"{name} line 1: required column {column!r} is missing")
        empty = frame[column].isna().to_numpy()
        if empty.any():
            line = _line(raw, name, int(empty.argmax()))
            raise DatasetInvalid(f"{name} line {line}: column {column!r} is empty")
    return frame


def _check_not_truncated(content: bytes, name: str) -> None:
    """A file cut short (a copy interrupted, a disk full) must not load: pandas would pad its last
    row with blanks. Complete files end with a line break and a row as wide as the header."""
    if content and not content.endswith((b"\n", b"\r")):
        raise DatasetInvalid(f"{name}: does not end with a line break: the file looks truncated")
    lines = [line for line in content.decode(errors="replace").splitlines() if line.strip()]
    if len(lines) < 2:
        return
    header, last = (next(csv.reader([line])) for line in (lines[0], lines[-1]))
    if len(last) != len(header):
        raise DatasetInvalid(
            f"{name} line {len(content.splitlines())}: the last row has {len(last)} fields but "
            f"the header {len(header)}: the file looks truncated"
        )


def _year_columns(data: pd.DataFrame) -> list[str]:
    """The year columns; a header that holds digits but is not a year (`2O15`, `2015.1` for a
    repeated year) is an error, not a column silently dropped."""
    years, text = [], set(REQUIRED_COLUMNS[DATA_FILE])
    for column in map(str, data.columns):
        if _YEAR.match(column.strip()):
            years.append(column)
        elif column not in text and any(character.isdigit() for character in column):
            raise DatasetInvalid(
                f"{DATA_FILE} line 1: column {column!r} is not a year (year columns are "
                "four digits, such as '2015')"
            )
    if not years:
        raise DatasetInvalid(f"{DATA_FILE} line 1: no year columns (such as '2000') found")
    return years


def _check_unique(raw: RawDataset, frame: pd.DataFrame, columns: list[str], name: str) -> None:
    duplicated = frame.duplicated(columns).to_numpy()
    if duplicated.any():
        row = int(duplicated.argmax())
        example = frame.loc[frame.index[row], columns].tolist()
        line = _line(raw, name, row)
        raise DatasetInvalid(f"{name} line {line}: duplicate row for {columns}: {example}")


def _check_covered(
    raw: RawDataset, frame: pd.DataFrame, column: str, name: str, known: set[str], other: str
) -> None:
    """Every value of `column` has its rows in the `other` file (else one of them is cut)."""
    missing = ~frame[column].isin(known).to_numpy()
    if missing.any():
        values = sorted(set(frame[column][missing]))
        line = _line(raw, name, int(missing.argmax()))
        raise DatasetInvalid(
            f"{name} line {line}: {len(values)} values of {column!r} have no row in {other}, "
            f"e.g. {values[:3]} (is {other} truncated or incomplete?)"
        )


def _numeric_block(
    raw: RawDataset, data: pd.DataFrame, year_columns: list[str], max_abs_value: float
) -> np.ndarray:
    if data.empty:
        raise DatasetInvalid(f"{DATA_FILE}: no data rows")
    for column in year_columns:
        converted = pd.to_numeric(data[column], errors="coerce")
        bad = (converted.isna() & data[column].notna()).to_numpy()
        if bad.any():
            row = int(bad.argmax())
            raise DatasetInvalid(
                f"{DATA_FILE} line {_line(raw, DATA_FILE, row)}: column {column!r} has the "
                f"non-numeric value {data[column].iloc[row]!r}"
            )
    block = data[year_columns].apply(pd.to_numeric).to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        _check_values(
            raw, block, ~np.isfinite(block) & ~np.isnan(block), year_columns, "not finite"
        )
        too_large = np.abs(block) > max_abs_value
    _check_values(raw, block, too_large, year_columns, f"outside +-{max_abs_value:g}")
    return block


def _check_values(
    raw: RawDataset, block: np.ndarray, bad: np.ndarray, columns: list[str], reason: str
) -> None:
    if bad.any():
        row, column = (int(k) for k in np.argwhere(bad)[0])
        raise DatasetInvalid(
            f"{DATA_FILE} line {_line(raw, DATA_FILE, row)}: column {columns[column]!r} has "
            f"the value {float(block[row, column])!r}, {reason}: the file looks corrupt"
        )


def _to_cube(
    data: pd.DataFrame, values: np.ndarray, countries: pd.Index, indicators: pd.Index
) -> np.ndarray:
    cube = np.full((values.shape[1], len(countries), len(indicators)), np.nan)
    rows = countries.get_indexer(pd.Index(data[COUNTRY]))
    columns = indicators.get_indexer(pd.Index(data[INDICATOR]))
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

    def __init__(self, settings: Settings, shared: SharedFrames | None = None) -> None:
        self._settings = settings
        self._shared = shared  # handed to every store loaded
        self._lock = threading.Lock()
        self.store: IndicatorStore | None = None
        self.error: str | None = "dataset not loaded yet"
        self.files: list[str] = []
        self._listeners: list[Callable[[IndicatorStore], None]] = []

    def on_load(self, listener: Callable[[IndicatorStore], None]) -> None:
        """Call `listener` with each store swapped in from now on (`load` of unchanged files
        too: it swaps one in); what it raises is logged, never a failed load."""
        self._listeners.append(listener)

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
                store = parse_dataset(raw, self._settings.dataset_max_abs_value)
                store.share_matrices(self._shared)
            except (DatasetInvalid, OSError) as error:
                logger.error("dataset load failed: %s", error)
                self.error = self._public(error)
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
        for listener in self._listeners:
            try:
                listener(store)
            except Exception:
                logger.exception("a listener of the dataset load failed")
        return ReloadStatus.loaded

    def _public(self, error: Exception) -> str:
        """The error as clients may see it: no server path (OS errors name only their cause)."""
        if isinstance(error, OSError):
            name = Path(error.filename).name if error.filename else "the dataset files"
            return f"cannot read {name} under DATASET_PATH: {error.strerror or 'I/O error'}"
        text = str(error)
        for path in {str(self._settings.dataset_path), str(self._settings.dataset_path.resolve())}:
            text = text.replace(path, "DATASET_PATH")
        return text

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
