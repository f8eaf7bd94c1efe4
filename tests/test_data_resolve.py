"""Finding files (WILOC_DATA, flat folder, cache), sha256 checks, and pooch downloads.

Downloads go to a local http.server on 127.0.0.1; no test touches the internet.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from wiloc_core.data import fetch, get_entry, locate, read_ap_positions, sha256_file
from wiloc_core.data import resolve as resolve_module
from wiloc_core.errors import ChecksumError, DatasetNotFoundError
from wiloc_core.paths import repo_root

# The real AP_positions.txt of the RTT dataset (153 bytes, CRLF line ends, MIT licence): its sha256 is in
# the manifest, so the download test exercises the real entry and the real hash.
AP_POSITIONS = b"\r\n".join([
    b"lecture theatre", b"AP X: 3,10,18.8,3,19", b"AP Y: 9,9,9,21,21", b"",
    b"office", b"AP X: 1,11,15,20,25", b"AP Y: 5,-1,6,-1,5", b"",
    b"corridor", b"AP X:2,17,38,48", b"AP Y:7.5,6.8,9,5",
])


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Empty WILOC_DATA and cache folders; a fresh hash cache."""
    data, cache = tmp_path / "wiloc_data", tmp_path / "cache"
    data.mkdir()
    monkeypatch.setenv("WILOC_DATA", str(data))
    monkeypatch.setenv("WILOC_CACHE", str(cache))
    resolve_module.clear_hash_cache()
    return data, cache


# Read at import, before the autouse fixture points WILOC_DATA at an empty folder.
_ORIGINAL_WILOC_DATA = os.environ.get("WILOC_DATA", "").strip()


@pytest.fixture
def real_data(monkeypatch) -> Path:
    """The real data folder: WILOC_DATA, else ../shared/data next to the repository."""
    value = _ORIGINAL_WILOC_DATA
    folder = Path(value) if value else repo_root().parent / "shared" / "data"
    if not folder.is_dir():
        pytest.skip(f"real data unavailable: {folder} does not exist (set WILOC_DATA to the data folder)")
    monkeypatch.setenv("WILOC_DATA", str(folder))
    return folder


def test_ap_positions_literal_is_the_manifest_file():
    assert hashlib.sha256(AP_POSITIONS).hexdigest() == get_entry("rtt_ap_positions").sha256


def test_locate_real_files_in_wiloc_data(real_data):
    for name in ("UJI1", "UTS", "rtt_office_test"):
        found = locate(name)
        assert found.where == "WILOC_DATA"
        assert found.path == (real_data / found.entry.path).resolve()


def test_locate_accepts_a_flat_wiloc_data_folder(isolated):
    data, _ = isolated
    (data / "AP_positions.txt").write_bytes(AP_POSITIONS)
    found = locate("rtt_ap_positions")
    assert (found.where, found.path.name, found.path.parent) == ("WILOC_DATA", "AP_positions.txt", data)


def test_locate_falls_back_to_the_cache_and_prefers_wiloc_data(isolated, monkeypatch):
    data, cache = isolated
    cached = cache / "rtt" / "AP_positions.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(AP_POSITIONS)
    monkeypatch.delenv("WILOC_DATA")
    assert locate("rtt_ap_positions").where == "cache"
    monkeypatch.setenv("WILOC_DATA", str(data))
    (data / "rtt").mkdir()
    (data / "rtt" / "AP_positions.txt").write_bytes(AP_POSITIONS)
    assert locate("rtt_ap_positions").where == "WILOC_DATA"


def test_locate_checksum_mismatch_names_both_hashes(isolated):
    data, _ = isolated
    bad = AP_POSITIONS.replace(b"18.8", b"18.9")
    (data / "AP_positions.txt").write_bytes(bad)
    with pytest.raises(ChecksumError) as info:
        locate("rtt_ap_positions")
    expected = get_entry("rtt_ap_positions").sha256
    actual = hashlib.sha256(bad).hexdigest()
    assert expected in str(info.value) and actual in str(info.value)
    assert "AP_positions.txt" in str(info.value)
    assert locate("rtt_ap_positions", verify=False).where == "WILOC_DATA"


def test_missing_file_message_says_how_to_get_it():
    with pytest.raises(DatasetNotFoundError) as info:
        locate("UTS")
    message = str(info.value)
    assert "WILOC_DATA" in message and "wiloc data fetch UTS" in message
    with pytest.raises(DatasetNotFoundError, match="zenodo"):
        locate("UJI1")  # no direct download: the message points at the record


def test_hashes_are_cached_by_path_size_and_mtime(isolated, monkeypatch):
    data, _ = isolated
    path = data / "file.bin"
    path.write_bytes(b"one")
    calls = []
    real_sha256 = hashlib.sha256

    def counting_sha256(*args):
        calls.append(1)
        return real_sha256(*args)

    monkeypatch.setattr(resolve_module.hashlib, "sha256", counting_sha256)
    first = sha256_file(path)
    assert sha256_file(path) == first and len(calls) == 1
    path.write_bytes(b"three")  # new size: must be hashed again
    assert sha256_file(path) == real_sha256(b"three").hexdigest() and len(calls) == 2


# ---------------------------------------------------------------------------------------
# Downloads through pooch, from a local HTTP server
# ---------------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def http_root(tmp_path, monkeypatch):
    """Serve a temporary folder on 127.0.0.1; yields (folder, base URL)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    root = tmp_path / "served"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_fetch_downloads_verifies_and_caches(isolated, http_root):
    _, cache = isolated
    root, base = http_root
    (root / "AP_positions.txt").write_bytes(AP_POSITIONS)
    found = fetch("rtt_ap_positions", url=f"{base}/AP_positions.txt")
    assert found.where == "cache"
    assert found.path == (cache / "rtt" / "AP_positions.txt").resolve()
    assert found.path.read_bytes() == AP_POSITIONS
    assert read_ap_positions(found.path)["corridor"].shape == (4, 2)
    # A second fetch uses the verified copy: the server no longer has the file.
    (root / "AP_positions.txt").unlink()
    assert fetch("rtt_ap_positions", url=f"{base}/AP_positions.txt").path == found.path
    assert locate("rtt_ap_positions").where == "cache"


def test_fetch_hash_mismatch_names_both_hashes_and_keeps_nothing(isolated, http_root):
    _, cache = isolated
    root, base = http_root
    tampered = AP_POSITIONS + b"\n"
    (root / "AP_positions.txt").write_bytes(tampered)
    with pytest.raises(ChecksumError) as info:
        fetch("rtt_ap_positions", url=f"{base}/AP_positions.txt")
    message = str(info.value)
    assert get_entry("rtt_ap_positions").sha256 in message
    assert hashlib.sha256(tampered).hexdigest() in message
    assert not (cache / "rtt" / "AP_positions.txt").exists()


def test_fetch_http_error_is_dataset_not_found(http_root):
    _, base = http_root
    with pytest.raises(DatasetNotFoundError, match="could not download"):
        fetch("rtt_ap_positions", url=f"{base}/missing.txt")


def test_fetch_without_direct_download_explains_the_manual_step():
    with pytest.raises(DatasetNotFoundError, match="3751042"):
        fetch("TUT5")
