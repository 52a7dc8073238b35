"""Stores the files filed as evidence (objections, complaints, repair applications) and case
documents in storage, by their sha256, after the rules (policies/rights.yaml, policies/cases.yaml)
have checked count, size and type.

Files are read from the form at most one byte past the size limit, so an oversized upload costs
the hub no more than the limit; the type is read from the bytes, never from the name or the
browser's word; a refusal stores nothing. Files live under the key ``evidence/<2 hex>/<sha256>``
(``HUB_DATA_DIR/evidence/…`` on a filesystem, the bucket of ``HUB_S3_BUCKET`` on S3), so any API
process hands back what another stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import PurePath

from starlette.datastructures import FormData, UploadFile

from connectors.storage.base import Storage
from connectors.storage.config import open_storage
from graph.rights.evidence import Evidence
from hub.settings import get_settings
from policies.rights import Attachments, sniff

_ID = frozenset("0123456789abcdef")


class EvidenceRefused(ValueError):
    """Why a filing's attachments are refused; the message is safe to show the filer."""


async def files_of(form: FormData, field: str, rules: Attachments) -> list[tuple[str, bytes]]:
    """The non-empty files of ``field``, each read to at most one byte past the limit."""
    uploads = [u for u in form.getlist(field) if isinstance(u, UploadFile) and u.filename]
    if len(uploads) > rules.max_count:
        raise EvidenceRefused(f"at most {rules.max_count} attachments may be sent")
    files = []
    for upload in uploads:
        data = await upload.read(rules.max_bytes + 1)
        files.append((PurePath(upload.filename or "file").name[:120], data))
    return [(name, data) for name, data in files if data]


async def store(files: list[tuple[str, bytes]], rules: Attachments) -> list[Evidence]:
    """Check every file, then write them all (content-addressed, so a retry is harmless)."""
    refusal = rules.refusal(files)
    if refusal is not None:
        raise EvidenceRefused(refusal)
    return await asyncio.to_thread(_write, evidence_storage(), files)


def _write(storage: Storage, files: list[tuple[str, bytes]]) -> list[Evidence]:
    stored = []
    for name, data in files:
        digest = hashlib.sha256(data).hexdigest()
        key = evidence_key(digest)
        if not storage.exists(key):
            storage.put(key, io.BytesIO(data))
        stored.append(Evidence(digest, name, sniff(data) or "", len(data)))
    return stored


def evidence_storage() -> Storage:
    """The storage of this process's settings (``HUB_STORAGE``)."""
    return open_storage(get_settings().storage_config)


def evidence_key(evidence_id: str) -> str:
    """Where a file lives; ValueError for anything but a sha256 (no key from user text)."""
    if len(evidence_id) != 64 or not set(evidence_id) <= _ID:
        raise ValueError("not an evidence id")
    return f"evidence/{evidence_id[:2]}/{evidence_id}"
