"""The storage contract (connectors/storage): the same tests against the filesystem storage
and the S3 one on a real S3-compatible server (moto, tests/s3.py). Whatever passes here for one
passes for the other, so the hub does not care which it is given."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.storage.base import BadKey, MissingObject, Storage, chunks
from connectors.storage.filesystem import FileStorage
from connectors.storage.s3 import IN_FLIGHT, PART, s3_storage
from hub.settings import Settings
from tests.s3 import MotoServer

MB = 1024 * 1024
BAD_KEYS = [
    "", "/etc/passwd", "../keys/pii", "archives/../../keys", "archives//x", "archives/",
    ".hidden", "archives/.x.tmp", "a\\b", "空格 名", "a b", "x" * 129, "a/" * 8 + "b", "C:x",
]  # fmt: skip


@pytest.fixture(params=["fs", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """The filesystem storage in a fresh directory, or the S3 one under a fresh prefix."""
    if request.param == "fs":
        return FileStorage(tmp_path / "store")
    server: MotoServer = request.getfixturevalue("s3_server")
    return s3_storage(server.config(tmp_path, prefix=f"contract-{uuid.uuid4().hex}/"))


def _read(storage: Storage, key: str) -> bytes:
    return b"".join(chunks(storage.open(key), 1000))


def _stored_keys(storage: Storage) -> list[str]:
    """Every object the storage holds (under its prefix), by listing the store itself."""
    if isinstance(storage, FileStorage):
        root = storage.root
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    listed = storage.client.list_objects_v2(Bucket=storage.bucket, Prefix=storage.prefix)
    return sorted(o["Key"].removeprefix(storage.prefix) for o in listed.get("Contents", []))


def test_an_object_is_put_read_back_replaced_and_deleted(storage: Storage, tmp_path: Path) -> None:
    key = "evidence/ab/" + "ab" * 32
    assert not storage.exists(key)
    first, second = os.urandom(5000), b"%PDF-1.4 replaced"
    source = tmp_path / "first.bin"
    source.write_bytes(first)
    with source.open("rb") as file:
        storage.put(key, file)
    assert storage.exists(key) and _read(storage, key) == first
    with storage.local_file(key) as local:
        assert local.read_bytes() == first
    storage.put(key, _Bytes(second))
    assert _read(storage, key) == second  # replaced whole, not appended to
    assert _stored_keys(storage) == [key]
    storage.delete(key)
    assert not storage.exists(key) and _stored_keys(storage) == []
    storage.delete(key)  # nothing to delete is no error


def test_a_missing_key_is_missing_for_every_read(storage: Storage) -> None:
    key = "archives/IMP-NEVERUPLOADED.csv"
    assert not storage.exists(key)
    with pytest.raises(MissingObject):
        storage.open(key)
    with pytest.raises(MissingObject), storage.local_file(key):
        pass


@pytest.mark.parametrize("key", BAD_KEYS)
def test_a_bad_key_is_refused_before_anything_is_touched(storage: Storage, key: str) -> None:
    source = _Bytes(b"never stored")
    with pytest.raises(BadKey):
        storage.put(key, source)
    assert source.read_calls == 0
    for call in (storage.open, storage.exists, storage.delete):
        with pytest.raises(BadKey):
            call(key)
    with pytest.raises(BadKey), storage.local_file(key):
        pass
    assert _stored_keys(storage) == []


def test_a_large_object_streams_in_and_out_in_bounded_memory(
    storage: Storage, tmp_path: Path
) -> None:
    """An archive of hundreds of MB must not sit in memory: sixteen S3 parts go in and come
    out with no more than the parts in flight (and three for the rest) held at any time."""
    size = 16 * PART
    source, digest = tmp_path / "large.csv", hashlib.sha256()
    with source.open("wb") as out:
        for n in range(size // MB):
            piece = hashlib.sha256(str(n).encode()).digest() * (MB // 32)
            digest.update(piece)
            out.write(piece)
    key = "archives/IMP-LARGE0000000001.csv"
    tracemalloc.start()
    try:
        with source.open("rb") as file:
            storage.put(key, file)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        read, length = hashlib.sha256(), 0
        for piece in chunks(storage.open(key)):
            read.update(piece)
            length += len(piece)
        _, read_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with storage.local_file(key) as local:
            assert local.stat().st_size == size
        _, local_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (length, read.hexdigest()) == (size, digest.hexdigest())
    peaks = {"put": put_peak, "read": read_peak, "local_file": local_peak}
    shown = {name: f"{peak / MB:.1f} MB" for name, peak in peaks.items()}
    assert max(peaks.values()) < (IN_FLIGHT + 3) * PART, shown
    storage.delete(key)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"storage": "s3"}, "HUB_S3_BUCKET"),
        ({"storage": "nfs"}, "HUB_STORAGE is one of fs, s3"),
        ({"storage": "s3", "s3_bucket": "b", "s3_prefix": "../up/"}, "HUB_S3_PREFIX"),
        ({"storage": "s3", "s3_bucket": "b", "s3_prefix": "hub"}, "ends with '/'"),
    ],
)
def test_storage_settings_that_cannot_work_stop_the_start_without_showing_the_secret(
    settings: dict[str, str], named: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**settings, s3_secret_key="s3cr3t-never-shown")  # type: ignore[arg-type]
    assert named in str(refused.value) and "s3cr3t" not in str(refused.value)
    fine = Settings(storage="s3", s3_bucket="b", s3_secret_key="s3cr3t-never-shown")  # type: ignore[arg-type]
    assert "s3cr3t" not in repr(fine.storage_config) + repr(fine) + fine.storage_config.where


class _Bytes:
    """A readable source that counts how often it was read (a refused put reads nothing)."""

    def __init__(self, data: bytes) -> None:
        self._data, self._at, self.read_calls = data, 0, 0

    def read(self, size: int = -1) -> bytes:
        self.read_calls += 1
        end = len(self._data) if size < 0 else self._at + size
        piece, self._at = self._data[self._at : end], min(end, len(self._data))
        return piece

    def __iter__(self) -> Iterator[bytes]:
        return iter([self.read()])
