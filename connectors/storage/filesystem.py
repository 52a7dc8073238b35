"""Objects as files under one directory: the key is the relative path (``HUB_STORAGE=fs``).

Writes are atomic: the bytes go to a hidden temporary file beside the target (a name no key can
take), are flushed to disk, and the file is renamed over the target. A disk that refuses (full,
read-only, gone) is :class:`StorageUnavailable`, like an object store that does not answer.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from connectors.storage.base import CHUNK, MissingObject, Reader, StorageUnavailable, checked_key


class FileStorage:
    """Objects under ``root``: ``archives/IMP-….csv`` is ``root/archives/IMP-….csv``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / checked_key(key)

    def put(self, key: str, source: BinaryIO) -> None:
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageUnavailable(f"cannot write {key}: {exc.strerror or exc}") from exc

    def open(self, key: str) -> Reader:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise MissingObject(key) from None
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {key}: {exc.strerror or exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot delete {key}: {exc.strerror or exc}") from exc

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        """The file itself: it is already on this machine."""
        path = self._path(key)
        if not path.is_file():
            raise MissingObject(key)
        yield path
