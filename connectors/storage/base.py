"""The storage interface: put, read as a stream, exists and delete, by checked keys.

A key names an object the way a path names a file, but it is never a path: it is made of
segments of letters, digits, ``.``, ``_`` and ``-`` that start with a letter or a digit,
joined by ``/`` (:func:`checked_key`), so no key climbs out of its store or lands on a store's
own temporary files. Keys are built by the code that owns the object (an import id, a sha256),
never taken from a request as they come. The calls block: async code runs them in a thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 1024 * 1024  # bytes read at a time from a stored object
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,7}")


class BadKey(ValueError):
    """A key that is not one (a bug in the caller: keys are never user text)."""


class MissingObject(LookupError):
    """Nothing is stored under the key."""


class StorageUnavailable(RuntimeError):
    """The store did not answer or refused the call: try again once it is back."""


def checked_key(key: str) -> str:
    """``key`` itself, or :class:`BadKey` when it is not a valid key."""
    if not isinstance(key, str) or _KEY.fullmatch(key) is None:
        raise BadKey(f"not a storage key: {key!r}")
    return key


class Reader(Protocol):
    """An object opened for reading: read it in pieces, then close it."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class Storage(Protocol):
    """Objects by key. ``put`` replaces an object whole: a reader sees the old bytes, the new
    ones or nothing, never a part."""

    def put(self, key: str, source: BinaryIO) -> None:
        """Store what ``source`` holds from where it stands, read in pieces."""
        ...

    def open(self, key: str) -> Reader:
        """The object for reading; :class:`MissingObject` when there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; nothing to remove is not an error."""
        ...

    def local_file(self, key: str) -> AbstractContextManager[Path]:
        """The object as a file on this machine for the block (a reader that must seek, such
        as a workbook's), without reading it into memory."""
        ...


def chunks(reader: Reader, size: int = CHUNK) -> Iterator[bytes]:
    """The reader's bytes, ``size`` at a time, closing it at the end or when abandoned."""
    try:
        while piece := reader.read(size):
            yield piece
    finally:
        reader.close()
