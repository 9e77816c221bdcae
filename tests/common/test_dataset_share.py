"""The dataset share CLI, through the real Azure Files SDK.

Azurite has no file service, so these tests run the SDK against the smallest fake of the Azure
Files REST calls it makes here (create file, put range, get properties, download, list
directory), served over HTTP on loopback. The fake ignores authentication and keeps files in memory.
"""

import base64
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

import pytest

from common.core.settings import Settings
from common.data.dataset_share import INCOMING_DIR, main, open_share, sync, upload
from tests.conftest import AZURITE_ACCOUNT, AZURITE_KEY

SHARE = "datasets"


class _FakeFile:
    def __init__(self, size: int, md5: str | None) -> None:
        self.data = bytearray(size)
        self.md5 = md5
        self.etag = f'"{uuid.uuid4().hex}"'


class _FileShareHandler(BaseHTTPRequestHandler):
    files: dict[str, _FakeFile]  # set per server

    def log_message(self, *args: object) -> None:
        return None

    def _name(self) -> tuple[str, dict[str, list[str]]]:
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/", 2)  # account, share, file
        return (parts[2] if len(parts) == 3 else ""), parse_qs(url.query)

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in {"x-ms-version": "2025-01-05", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _file_headers(self, file: _FakeFile) -> dict[str, str]:
        headers = {
            "ETag": file.etag,
            "Last-Modified": formatdate(usegmt=True),
            "x-ms-type": "File",
            "Content-Type": "application/octet-stream",
        }
        if file.md5:
            headers["Content-MD5"] = file.md5
        return headers

    def do_PUT(self) -> None:
        name, query = self._name()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if query.get("comp") == ["range"]:
            start, end = map(int, re.findall(r"\d+", self.headers["x-ms-range"]))
            file = self.files[name]
            file.data[start : end + 1] = body
            file.etag = f'"{uuid.uuid4().hex}"'
            self._reply(201, headers={"ETag": file.etag, "Last-Modified": formatdate(usegmt=True)})
            return
        size = int(self.headers["x-ms-content-length"])
        self.files[name] = _FakeFile(size, self.headers.get("x-ms-content-md5"))
        self._reply(201, headers={"ETag": self.files[name].etag})

    def do_HEAD(self) -> None:
        name, _ = self._name()
        if name not in self.files:
            self._reply(404, headers={"x-ms-error-code": "ResourceNotFound"})
            return
        file = self.files[name]
        self.send_response(200)
        for key, value in self._file_headers(file).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(file.data)))
        self.end_headers()

    def do_GET(self) -> None:
        name, query = self._name()
        if query.get("comp") == ["list"]:
            entries = "".join(
                f"<File><Name>{escape(n)}</Name><Properties><Content-Length>{len(f.data)}"
                "</Content-Length></Properties></File>"
                for n, f in sorted(self.files.items())
            )
            xml = (
                '<?xml version="1.0" encoding="utf-8"?><EnumerationResults '
                f'ShareName="{SHARE}" DirectoryPath=""><Entries>{entries}</Entries>'
                "<NextMarker /></EnumerationResults>"
            )
            self._reply(200, xml.encode(), {"Content-Type": "application/xml"})
            return
        file = self.files[name]
        data = bytes(file.data)
        requested = self.headers.get("x-ms-range") or self.headers.get("Range")
        headers = self._file_headers(file)
        if requested:
            start, end = map(int, re.findall(r"\d+", requested))
            end = min(end, len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            self._reply(206, data[start : end + 1], headers)
        else:
            self._reply(200, data, headers)


@pytest.fixture
def share_settings(demo_settings: Settings) -> Iterator[Settings]:
    handler = type("Handler", (_FileShareHandler,), {"files": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"FileEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
    )
    yield demo_settings.model_copy(update={"azure_storage_connection_string": connection})
    server.shutdown()


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
