"""``python -m hub.logpipe FILE``: write standard input to FILE, rotating it by size.

`hub up` runs each of its processes with its output piped through one of these, so a busy
worker's log (about 200 MB a day under load) is kept to ``--backups`` files of ``--max-bytes``
each. One writer per file: rotating from inside processes that share a file would race.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO


def rotate(path: Path, backups: int) -> None:
    """FILE becomes FILE.1, FILE.1 FILE.2, and so on; the oldest past ``backups`` goes."""
    for n in range(backups - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{n + 1}"))
    if backups > 0 and path.exists():
        path.replace(path.with_name(f"{path.name}.1"))
    else:
        path.unlink(missing_ok=True)


def pipe(lines: TextIO, path: Path, max_bytes: int, backups: int) -> None:
    """Copy ``lines`` to ``path`` until they end, starting a new file past ``max_bytes``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = path.open("a", encoding="utf-8")
    try:
        written = out.tell()
        for line in lines:
            if written and written + len(line.encode()) > max_bytes:
                out.close()
                rotate(path, backups)
                out = path.open("a", encoding="utf-8")
                written = 0
            out.write(line)
            out.flush()
            written += len(line.encode())
    finally:
        out.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--max-bytes", type=int, default=50 * 1024 * 1024)
    parser.add_argument("--backups", type=int, default=5)
    args = parser.parse_args()
    sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    pipe(sys.stdin, args.file, args.max_bytes, args.backups)


if __name__ == "__main__":
    main()
