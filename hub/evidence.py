"""Stores the files filed as evidence (objections, complaints, repair applications) on disk,
by their sha256, after the rights rules (policies/rights.yaml) have checked count, size and type.

Files are read from the form at most one byte past the size limit, so an oversized upload costs
the hub no more than the limit; the type is read from the bytes, never from the name or the
browser's word; a refusal stores nothing. Files live under ``HUB_DATA_DIR/evidence``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePath

from starlette.datastructures import FormData, UploadFile

from graph.rights.evidence import Evidence
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


def store(directory: Path, files: list[tuple[str, bytes]], rules: Attachments) -> list[Evidence]:
    """Check every file, then write them all (content-addressed, so a retry is harmless)."""
    refusal = rules.refusal(files)
    if refusal is not None:
        raise EvidenceRefused(refusal)
    stored = []
    for name, data in files:
        digest = hashlib.sha256(data).hexdigest()
        path = path_of(directory, digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        stored.append(Evidence(digest, name, sniff(data) or "", len(data)))
    return stored


def path_of(directory: Path, evidence_id: str) -> Path:
    """Where a file lives; ValueError for anything but a sha256 (no path from user text)."""
    if len(evidence_id) != 64 or not set(evidence_id) <= _ID:
        raise ValueError("not an evidence id")
    return directory / evidence_id[:2] / evidence_id
