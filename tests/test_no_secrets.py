"""No secret in the repo: account keys, SAS signatures, private keys, function keys.

Azurite's documented development key is the one key allowed (tests and local configuration).
"""

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
SECRET_PATTERNS = {
    "storage account key": re.compile(r"AccountKey\s*=\s*([A-Za-z0-9+/=]{40,})"),
    "base64 key literal": re.compile(r"[\"']([A-Za-z0-9+/]{86}==)[\"']"),
    "SAS signature": re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{20,}"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "function key in a URL": re.compile(r"[?&]code=[A-Za-z0-9_\-=]{30,}"),
    "client secret": re.compile(r"(?i)client[_-]?secret\s*[:=]\s*[\"'][^\"'$]{8,}[\"']"),
}


def _tracked_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return [REPO / name for name in listing.stdout.splitlines() if (REPO / name).is_file()]


def find_secrets(text: str) -> list[str]:
    """The kinds of secret found in a text, ignoring Azurite's public development key."""
    found = []
    for kind, pattern in SECRET_PATTERNS.items():
        for match in pattern.finditer(text):
            value = match.group(1) if match.groups() else match.group(0)
            if value != AZURITE_KEY:
                found.append(kind)
    return found


def test_no_secret_in_the_repo() -> None:
    offenders = {}
    for path in _tracked_files():
        if path.suffix in {".png", ".jpg", ".gz", ".zip"} or path.name == "package-lock.json":
            continue
        found = find_secrets(path.read_text(errors="ignore"))
        if found:
            offenders[str(path.relative_to(REPO))] = found
    assert not offenders, f"secrets found: {offenders}"


def test_scanner_finds_a_planted_key() -> None:
    fake_key = "A" * 86 + "=="
    assert "storage account key" in find_secrets(f"AccountName=x;AccountKey={fake_key};")
    assert find_secrets(f"AccountKey={AZURITE_KEY};") == []
    assert "SAS signature" in find_secrets("https://a.blob.core.windows.net/c?sv=1&sig=" + "b" * 40)
