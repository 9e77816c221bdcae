"""A reload of each kind of corrupt dataset is refused with a 422 naming file, line and reason;
the previous version stays in service, and no server path is shown. The share sync refuses a
corrupt dataset too."""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api_app import create_app
from common.core.errors import DatasetInvalid
from common.core.settings import Settings
from common.data.dataset_share import open_share, sync, upload
from common.data.files import DATA_FILE, DATASET_META_FILE, INDICATOR_META_FILE
from common.serving.runtime import Runtime


def _cut_at_a_line_break(folder: Path) -> None:
    path = folder / DATA_FILE
    content = path.read_bytes()
    path.write_bytes(content[: content.index(b"\n", len(content) // 2) + 1])  # half the rows


def _misspelt_year(folder: Path) -> None:
    _replace(folder / DATA_FILE, ",2015,", ",2O15,")


def _huge_value(folder: Path) -> None:
    lines = (folder / DATA_FILE).read_text().splitlines()
    cells = lines[100].split(",")
    cells[5] = "1e308"
    lines[100] = ",".join(cells)
    (folder / DATA_FILE).write_text("\n".join(lines) + "\n")


def _infinite_value(folder: Path) -> None:
    lines = (folder / DATA_FILE).read_text().splitlines()
    cells = lines[100].split(",")
    cells[6] = "inf"
    lines[100] = ",".join(cells)
    (folder / DATA_FILE).write_text("\n".join(lines) + "\n")


def _dataset_meta_cut(folder: Path) -> None:
    path = folder / DATASET_META_FILE
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-2]) + "\n")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


# (damage, file named, line named, words of the reason)
CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str, str, str]] = {
    "cut_at_a_line_break": (_cut_at_a_line_break, INDICATOR_META_FILE, "line", "no row in"),
    "misspelt_year_header": (_misspelt_year, DATA_FILE, "line 1", "not a year"),
    "absurd_value": (_huge_value, DATA_FILE, "line 101", "outside"),
    "infinite_value": (_infinite_value, DATA_FILE, "line 101", "not finite"),
    "dataset_meta_cut": (_dataset_meta_cut, INDICATOR_META_FILE, "line", DATASET_META_FILE),
}


@pytest.fixture
def data_dir(demo_dataset_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(demo_dataset_dir, folder)
    return folder


@pytest.fixture
def api(demo_settings: Settings, data_dir: Path, admin_keys: tuple[str, str]) -> Iterator:
    settings = demo_settings.model_copy(
        update={"dataset_path": data_dir, "admin_api_keys": [SecretStr(admin_keys[0])]}
    )
    with TestClient(
        create_app(Runtime.create(settings)), headers={"X-API-Key": admin_keys[0]}
    ) as client:
        yield client


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_reload_of_a_corrupt_dataset_is_refused_naming_file_line_and_reason(
    api: TestClient, data_dir: Path, kind: str
) -> None:
    damage, file, line, reason = CORRUPTIONS[kind]
    before = api.get("/").json()["dataset_version"]
    damage(data_dir)
    response = api.post("/datasets/reload")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "dataset_invalid"
    for part in (file, line, reason, "previous data kept"):
        assert part in body["detail"], body["detail"]
    assert str(data_dir) not in response.text
    assert api.get("/").json()["dataset_version"] == before
    assert api.get("/readyz").status_code == 200
    assert api.get("/twolvlImp/target_years").status_code == 200


def test_errors_and_dataset_info_show_no_server_path(api: TestClient, data_dir: Path) -> None:
    info = api.get("/datasets")
    assert info.status_code == 200 and str(data_dir) not in info.text
    (data_dir / DATA_FILE).unlink()
    response = api.post("/datasets/reload")
    assert response.status_code == 422 and DATA_FILE in response.json()["detail"]
    for text in (response.text, api.get("/datasets").text):
        assert str(data_dir) not in text and str(data_dir.parent) not in text


def test_the_share_sync_does_not_publish_a_corrupt_dataset(
    share_settings: Settings,
    demo_dataset_dir: Path,
    tmp_path: Path,
) -> None:
    share = open_share(share_settings)
    upload(share, demo_dataset_dir)
    mirror = tmp_path / "mirror"
    sync(share, mirror)
    good = (mirror / DATA_FILE).read_bytes()
    corrupt = tmp_path / "corrupt"
    shutil.copytree(demo_dataset_dir, corrupt)
    _cut_at_a_line_break(corrupt)
    with pytest.raises(DatasetInvalid, match="no row in"):
        upload(share, corrupt)  # refused before anything is sent
    # A corrupt file on the share (written by another tool) is not swapped in either.
    share.get_file_client(DATA_FILE).upload_file((corrupt / DATA_FILE).read_bytes())
    with pytest.raises(DatasetInvalid, match="no row in"):
        sync(share, mirror)
    assert (mirror / DATA_FILE).read_bytes() == good
