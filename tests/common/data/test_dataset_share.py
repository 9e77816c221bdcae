"""The dataset share CLI, through the real Azure Files SDK against the fake file share of
`tests/fixtures/file_share.py`."""

import base64
import hashlib
import json
from pathlib import Path

import pytest

from common.core.settings import Settings
from common.data.dataset_share import INCOMING_DIR, main, open_share, sync, upload


def test_upload_then_sync_copies_the_dataset(
    share_settings: Settings, demo_dataset_dir: Path, tmp_path: Path
) -> None:
    share = open_share(share_settings)
    uploaded = upload(share, demo_dataset_dir)
    assert sorted(uploaded.copied) == sorted(p.name for p in demo_dataset_dir.iterdir())
    synced = sync(share, tmp_path / "mirror")
    assert sorted(synced.copied) == sorted(uploaded.copied)
    for name in uploaded.copied:
        assert (tmp_path / "mirror" / name).read_bytes() == (demo_dataset_dir / name).read_bytes()
    assert not list((tmp_path / "mirror" / INCOMING_DIR).iterdir())


def test_only_changed_files_are_copied(
    share_settings: Settings, demo_dataset_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for path in demo_dataset_dir.iterdir():
        (source / path.name).write_bytes(path.read_bytes())
    share = open_share(share_settings)
    upload(share, source)
    mirror = tmp_path / "mirror"
    sync(share, mirror)
    meta = source / "datasetMeta.csv"
    meta.write_text(meta.read_text() + "demo_new,New dataset (demo)\n")
    again = upload(share, source)
    assert again.copied == ["datasetMeta.csv"] and len(again.unchanged) == 2
    down = sync(share, mirror)
    assert down.copied == ["datasetMeta.csv"] and len(down.unchanged) == 2
    assert (mirror / "datasetMeta.csv").read_text().endswith("New dataset (demo)\n")
    assert sync(share, mirror).copied == []


def test_cli_prints_what_it_copied(
    share_settings: Settings,
    demo_dataset_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("common.data.dataset_share.get_settings", lambda: share_settings)
    main(["upload", str(demo_dataset_dir)])
    assert len(json.loads(capsys.readouterr().out)["copied"]) == 3
    main(["sync", str(tmp_path / "mirror")])
    assert len(json.loads(capsys.readouterr().out)["copied"]) == 3


def test_fake_keeps_what_the_sdk_sent(share_settings: Settings, tmp_path: Path) -> None:
    # The fake is only useful if the SDK's upload really lands in it byte for byte.
    folder = tmp_path / "one"
    folder.mkdir()
    payload = bytes(range(256)) * 20_000  # large enough for several ranges
    (folder / "indicatorData.csv").write_bytes(payload)
    share = open_share(share_settings)
    upload(share, folder)
    properties = share.get_file_client("indicatorData.csv").get_file_properties()
    assert properties.size == len(payload)
    expected = base64.b64encode(hashlib.md5(payload, usedforsecurity=False).digest())
    assert base64.b64encode(bytes(properties.content_settings.content_md5)) == expected
