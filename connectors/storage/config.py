"""Which storage a process uses, from the hub's settings: a directory, or a bucket and its
credentials; one client per process, opened on first use."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal, get_args

from connectors.storage.base import BadKey, Storage, checked_key
from connectors.storage.filesystem import FileStorage

KINDS = ("fs", "s3")
Addressing = Literal["auto", "path", "virtual"]


@dataclass(frozen=True, slots=True)
class StorageConfig:
    kind: str  # "fs": files under ``root``; "s3": objects in ``bucket``
    root: Path
    endpoint_url: str = ""  # empty: AWS S3 of ``region``
    bucket: str = ""
    region: str = ""
    access_key: str = ""  # empty: boto3's own credential chain
    secret_key: str = field(default="", repr=False)  # never in a log line or a repr
    prefix: str = ""  # every key under it, e.g. "hub/"
    addressing_style: Addressing = "auto"  # "path" for most MinIO set-ups, "virtual" for OSS

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"HUB_STORAGE is one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.addressing_style not in get_args(Addressing):
            raise ValueError("HUB_S3_ADDRESSING_STYLE is one of auto, path, virtual")
        if self.kind == "s3" and not self.bucket:
            raise ValueError("HUB_STORAGE=s3 needs HUB_S3_BUCKET, the bucket files go to")
        if self.prefix:
            try:
                checked_key(self.prefix.removesuffix("/"))
            except BadKey:
                raise ValueError(
                    "HUB_S3_PREFIX is letters, digits, '.', '_', '-' in '/'-separated parts"
                ) from None
            if not self.prefix.endswith("/"):
                raise ValueError("HUB_S3_PREFIX ends with '/', e.g. 'hub/'")

    @property
    def where(self) -> str:
        """Where files go, for an operator's eyes (no credentials)."""
        if self.kind == "fs":
            return f"files under {self.root}"
        return f"s3://{self.bucket}/{self.prefix} at {self.endpoint_url or 'AWS S3'}"


def open_storage(config: StorageConfig) -> Storage:
    """This process's storage for ``config`` (a forked worker process opens its own)."""
    return _opened(os.getpid(), config)


@cache
def _opened(pid: int, config: StorageConfig) -> Storage:
    if config.kind == "s3":
        from connectors.storage.s3 import s3_storage  # boto3 is loaded only where it is used

        return s3_storage(config)
    return FileStorage(config.root)
