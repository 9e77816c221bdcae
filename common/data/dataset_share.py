"""The datasets file share: upload a local folder to it, and sync it down to DATASET_PATH.

For hosts that cannot mount the Azure Files share (CI, a laptop, a VM): `sync` copies changed
files only, each written beside its target and renamed over it, so a reader (the service's
reload) never sees a half-written file. Both directions validate the dataset first (as a reload
does) and refuse to publish one that would not load: `upload` sends nothing, `sync` swaps
nothing in.

    python -m common.data.dataset_share upload ./datasets      # local folder -> share
    python -m common.data.dataset_share sync [DEST]             # share -> DATASET_PATH (or DEST)

Credentials come from the settings: AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_FILE_URL with
a managed or workload identity; the share is DATASET_SHARE.
"""

import argparse
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.core.errors import DatasetInvalid
from common.core.settings import Settings, get_settings
from common.data.datasets import RawDataset, parse_dataset
from common.data.files import DATASET_FILES

logger = logging.getLogger(__name__)

SYNC_STATE_FILE = ".share-sync.json"
INCOMING_DIR = ".incoming"


@dataclass(frozen=True)
class Transfer:
    """What an upload or sync did."""

    copied: list[str]
    unchanged: list[str]


def open_share(settings: Settings) -> Any:
    """The `ShareClient` of the datasets share."""
    from azure.storage.fileshare import ShareClient

    if settings.azure_storage_connection_string:
        return ShareClient.from_connection_string(
            settings.azure_storage_connection_string, settings.dataset_share
        )
    if not settings.azure_storage_file_url:
        raise SystemExit(
            "set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_FILE_URL with an identity"
        )
    from azure.identity import DefaultAzureCredential

    # Azure Files accepts OAuth tokens for its REST API only with the backup intent.
    return ShareClient(
        settings.azure_storage_file_url,
        settings.dataset_share,
        credential=DefaultAzureCredential(),
        token_intent="backup",
    )


def validate(files: dict[str, Path], settings: Settings | None = None) -> None:
    """Raise `DatasetInvalid` unless the dataset files would load (as a reload checks them)."""
    settings = settings or get_settings()
    raw = RawDataset({name: files[name].read_bytes() for name in DATASET_FILES}, "share")
    parse_dataset(raw, settings.dataset_max_abs_value)


def _dataset_files(folder: Path) -> dict[str, Path]:
    return {name: folder / name for name in DATASET_FILES}


def upload(share: Any, folder: Path) -> Transfer:
    """Upload the files of `folder` whose content differs from the share's copy, once the
    dataset they make is valid."""
    if all(path.is_file() for path in _dataset_files(folder).values()):
        validate(_dataset_files(folder))
    copied, unchanged = [], []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        data = path.read_bytes()
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        file = share.get_file_client(path.name)
        if _remote_md5(file) == digest:
            unchanged.append(path.name)
            continue
        from azure.storage.fileshare import ContentSettings

        file.upload_file(data, content_settings=ContentSettings(content_md5=bytearray(digest)))
        copied.append(path.name)
    return Transfer(copied, unchanged)


def sync(share: Any, destination: Path) -> Transfer:
    """Download the share's files that changed since the last sync into `destination`."""
    destination.mkdir(parents=True, exist_ok=True)
    state_path = destination / SYNC_STATE_FILE
    state: dict[str, str] = json.loads(state_path.read_text()) if state_path.exists() else {}
    incoming = destination / INCOMING_DIR
    incoming.mkdir(exist_ok=True)
    staged: list[tuple[Path, Path, str, str]] = []
    unchanged = []
    for name in _remote_files(share):
        file = share.get_file_client(name)
        etag = file.get_file_properties().etag
        target = destination / name
        if target.exists() and state.get(name) == etag:
            unchanged.append(name)
            continue
        temporary = incoming / name
        with temporary.open("wb") as stream:
            file.download_file().readinto(stream)
            stream.flush()
            os.fsync(stream.fileno())
        staged.append((temporary, target, name, etag))
    # Swap the new files in only once all have arrived and make a valid dataset, each with an
    # atomic rename.
    files = _dataset_files(destination) | {name: path for path, _, name, _ in staged}
    if all(path.is_file() for path in files.values()):
        try:
            validate(files)
        except Exception:
            for temporary, *_ in staged:
                temporary.unlink(missing_ok=True)
            raise
    for temporary, target, name, etag in staged:
        os.replace(temporary, target)
        state[name] = etag
    state_path.write_text(json.dumps(state, indent=2))
    return Transfer([name for *_, name, _ in staged], unchanged)


def _remote_files(share: Any) -> Iterator[str]:
    for item in share.get_directory_client("").list_directories_and_files():
        if not item["is_directory"]:
            yield item["name"]


def _remote_md5(file: Any) -> bytes | None:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        md5 = file.get_file_properties().content_settings.content_md5
    except ResourceNotFoundError:
        return None
    return bytes(md5) if md5 else None


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m common.data.dataset_share", description=__doc__
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("upload", help="upload a local datasets folder to the share")
    up.add_argument("folder", type=Path)
    down = commands.add_parser("sync", help="copy changed files of the share to DATASET_PATH")
    down.add_argument("destination", type=Path, nargs="?", help="default: DATASET_PATH")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: prints what was copied."""
    arguments = _parse_args(argv)
    settings = get_settings()
    share = open_share(settings)
    try:
        if arguments.command == "upload":
            result = upload(share, arguments.folder)
        else:
            result = sync(share, arguments.destination or settings.dataset_path)
    except DatasetInvalid as error:
        raise SystemExit(f"dataset refused, nothing published: {error}") from error
    print(json.dumps({"copied": result.copied, "unchanged": result.unchanged}))


if __name__ == "__main__":
    main()
