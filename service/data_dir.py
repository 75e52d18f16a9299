"""The data directory is the owner's alone: folders 0700, every file Touchpoint writes 0600.

It holds the SQLite database, the generated secrets, the Redis dump and the local outbox, whose
emails carry live sign-in links; no other user of the machine may read any of it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
OWNER_ONLY_UMASK = 0o077
log = logging.getLogger(__name__)


def own_directory(path: Path) -> None:
    """Create path for the owner alone, or tighten it and what it holds; say so when it had to."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    changed = [entry for entry in _entries(path) if _tighten(entry)]
    if changed:
        log.warning(
            "%s was open to other users of this machine: made it the owner's alone "
            "(%d %s changed to 0700 folders and 0600 files)",
            path,
            len(changed),
            "entry" if len(changed) == 1 else "entries",
        )


def create_private_file(path: Path) -> None:
    """Create an empty file readable by the owner only, unless it exists already."""
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def write_private(path: Path, data: bytes) -> None:
    """Write data to path, readable by the owner only; readers never see half of it."""
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)  # a partial file left over from a crash
        handle.write(data)
    os.replace(partial, path)


@contextlib.contextmanager
def owner_only_files() -> Iterator[None]:
    """Make what this process and the processes it starts meanwhile create owner-only."""
    previous = os.umask(OWNER_ONLY_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def _entries(path: Path) -> Iterator[Path]:
    yield path
    for folder, names, files in os.walk(path):  # does not follow links to folders
        for name in (*names, *files):
            yield Path(folder) / name


def _tighten(path: Path) -> bool:
    """Take group and others' access away from a folder or file; say whether it had any."""
    mode = path.lstat().st_mode
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)) or not mode & 0o077:
        return False  # links, sockets: their own permissions do not guard the data
    os.chmod(path, PRIVATE_DIR if stat.S_ISDIR(mode) else PRIVATE_FILE)
    return True
