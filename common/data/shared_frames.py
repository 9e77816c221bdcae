"""Matrices derived from a dataset, shared by every process that serves it through a blob store.

A process that needs such a matrix (a year's imputed predictors, say) first asks its store's memo,
then the shared blob store (the one the result cache uses), and computes it only when neither
has it, sharing what it computed. So replicas, restarts, training processes and batch workers
compute each matrix once per dataset version, not once each.

A blob is one `.npz` (numpy's zip of `.npy` arrays: no pickle, loaded with `allow_pickle=False`)
holding the float64 values, the row and column labels and the blob's own name. It is used only
when all of these match what the caller expects; anything else (a corrupt, truncated or foreign
blob) is ignored and replaced. Storage trouble never fails the caller: it computes instead.
"""

import io
import logging
import zipfile
from collections.abc import Callable
from typing import Protocol

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

SHARED_PREFIX = "derived/"
FORMAT = "npz1"  # change it with the layout of the blob below


class SharedBlobs(Protocol):
    """What a shared matrix needs of a blob store (`common.serving.storage.BlobStore` is one)."""

    def get(self, name: str) -> bytes | None: ...
    def put(self, name: str, data: bytes) -> None: ...


def _ignore(source: str) -> None:
    return None


class SharedFrames:
    """Matrices of the dataset versions a process serves, in a shared blob store.

    `count` hears where each matrix came from: `shared` (read), `computed` (and shared),
    `ignored` (a blob that did not match, recomputed) or `unavailable` (storage failed,
    computed)."""

    def __init__(self, blobs: SharedBlobs, count: Callable[[str], None] = _ignore) -> None:
        self.blobs = blobs
        self.count = count

    def frame(
        self,
        name: str,
        index: pd.Index,
        columns: pd.Index,
        compute: Callable[[], pd.DataFrame],
    ) -> pd.DataFrame:
        """The matrix stored under `name`, else `compute()`, stored there whole (one put).

        `name` must say everything the values depend on (dataset version, code version, inputs);
        `index` and `columns` are the labels the matrix must have."""
        blob = f"{SHARED_PREFIX}{name}.{FORMAT}.npz"
        stored, problem = self._read(blob, index, columns)
        if stored is not None:
            self.count("shared")
            return stored
        frame = _normalised(compute(), index, columns)
        if problem != "unavailable" and not self._write(blob, frame):
            problem = "unavailable"
        self.count(problem or "computed")
        return frame

    def _read(
        self, blob: str, index: pd.Index, columns: pd.Index
    ) -> tuple[pd.DataFrame | None, str | None]:
        """The stored matrix; else None and why (None: absent)."""
        try:
            data = self.blobs.get(blob)
        except Exception as error:  # storage down: this request computes, it does not fail
            logger.warning("shared matrix %s unreadable (%s): computing it here", blob, error)
            return None, "unavailable"
        if data is None:
            return None, None
        try:
            return decode(data, blob, index, columns), None
        except (ValueError, KeyError, OSError, zipfile.BadZipFile) as error:
            logger.warning("shared matrix %s ignored (%s): computing it again", blob, error)
            return None, "ignored"

    def _write(self, blob: str, frame: pd.DataFrame) -> bool:
        try:
            self.blobs.put(blob, encode(frame, blob))
        except Exception as error:
            logger.warning("shared matrix %s not stored (%s)", blob, error)
            return False
        logger.info("shared matrix %s computed and stored", blob)
        return True


def encode(frame: pd.DataFrame, blob: str) -> bytes:
    """The blob's bytes: values, labels and the blob's name, as arrays of numbers and text."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        values=frame.to_numpy(dtype=np.float64),
        index=np.array([str(label) for label in frame.index], dtype=str),
        columns=np.array([str(label) for label in frame.columns], dtype=str),
        name=np.array(blob, dtype=str),
    )
    return buffer.getvalue()


def decode(data: bytes, blob: str, index: pd.Index, columns: pd.Index) -> pd.DataFrame:
    """The matrix of a blob, or ValueError when it is not the expected one."""
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        values, rows, cols, name = (arrays[key] for key in ("values", "index", "columns", "name"))
    if str(name) != blob:
        raise ValueError(f"the blob says it is {str(name)!r}")
    if values.dtype != np.float64 or values.shape != (len(index), len(columns)):
        raise ValueError(f"values of {values.dtype} {values.shape}, not the expected shape")
    if rows.tolist() != [str(label) for label in index]:
        raise ValueError("row labels differ")
    if cols.tolist() != [str(label) for label in columns]:
        raise ValueError("column labels differ")
    return pd.DataFrame(values, index=index, columns=columns)


def _normalised(frame: pd.DataFrame, index: pd.Index, columns: pd.Index) -> pd.DataFrame:
    """A computed matrix as a read one is built: the caller's labels, C-ordered float64 values,
    so an answer does not depend on where its matrix came from."""
    if not (frame.index.equals(index) and frame.columns.equals(columns)):
        raise ValueError("the computed matrix does not have the labels it is stored under")
    values = np.ascontiguousarray(frame.to_numpy(dtype=np.float64))
    return pd.DataFrame(values, index=index, columns=columns)
