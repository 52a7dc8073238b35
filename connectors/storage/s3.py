"""Objects in an S3-compatible bucket (AWS S3, MinIO, Aliyun OSS, …) through boto3
(``HUB_STORAGE=s3``).

boto3's managed transfers upload a large file in 5 MB parts, four at a time with at most four
in memory, and download it the same way, so an archive of hundreds of MB never sits in memory;
a part that fails is tried again by the transfer itself. Its calls block, so async callers run
them in a thread. Requests are checksummed only where S3 requires it: S3-compatible stores that
predate the newer default checksums (older MinIO, OSS) refuse them. A store that does not answer
or refuses is :class:`StorageUnavailable`, a missing object :class:`MissingObject`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from connectors.storage.base import MissingObject, Reader, StorageUnavailable, checked_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from connectors.storage.config import StorageConfig

PART = 5 * 1024 * 1024  # S3's smallest part: a 256 MB archive is some fifty parts
IN_FLIGHT = 4  # parts held in memory at once, each way
TRANSFER = TransferConfig(
    multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=IN_FLIGHT
)
# s3transfer's own settings, which boto3's constructor does not take (its default is ten parts).
TRANSFER.max_in_memory_upload_chunks = IN_FLIGHT
TRANSFER.max_in_memory_download_chunks = IN_FLIGHT
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


@contextmanager
def _answered(key: str) -> Iterator[None]:
    """The store's errors as the interface's."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING:
            raise MissingObject(key) from None
        raise StorageUnavailable(f"the object store refused {key}: {code}") from exc
    except (BotoCoreError, Boto3Error) as exc:
        raise StorageUnavailable(f"the object store did not answer for {key}: {exc}") from exc


class S3Storage:
    """Objects in ``bucket``, each key under ``prefix``."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def _name(self, key: str) -> str:
        return self.prefix + checked_key(key)

    def put(self, key: str, source: BinaryIO) -> None:
        """One PUT, or a multipart upload past :data:`PART`: either is visible whole or not."""
        with _answered(key):
            self.client.upload_fileobj(source, self.bucket, self._name(key), Config=TRANSFER)

    def open(self, key: str) -> Reader:
        with _answered(key):
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]

    def exists(self, key: str) -> bool:
        try:
            with _answered(key):
                self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except MissingObject:
            return False
        return True

    def delete(self, key: str) -> None:
        with _answered(key):
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        """A temporary copy, downloaded in parts and removed after the block."""
        name = self._name(key)
        handle, path = tempfile.mkstemp(prefix="hub-", suffix=Path(name).suffix)
        try:
            with os.fdopen(handle, "wb") as out, _answered(key):
                self.client.download_fileobj(self.bucket, name, out, Config=TRANSFER)
            yield Path(path)
        finally:
            Path(path).unlink(missing_ok=True)


def s3_storage(config: StorageConfig) -> S3Storage:
    """A client for the configured store: credentials from the settings, or boto3's own chain
    (environment, instance role) when the settings leave them empty. Timeouts are short so an
    outage answers in seconds, not minutes."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=config.endpoint_url or None,
        region_name=config.region or None,
        aws_access_key_id=config.access_key or None,
        aws_secret_access_key=config.secret_key or None,
        config=Config(
            connect_timeout=2,
            read_timeout=20,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": config.addressing_style},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    return S3Storage(client, config.bucket, config.prefix)
