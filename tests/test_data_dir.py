"""What `touchpoint run` keeps in its data directory is readable by its owner alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.commands import Run, outbox


def open_to_others(data: Path) -> list[str]:
    """Return every folder or file under data that another user of the machine could open."""
    found = []
    for folder, _folders, files in os.walk(data):  # each folder comes as its own `folder`
        for path in (Path(folder), *(Path(folder) / name for name in files)):
            mode = path.lstat().st_mode
            expected = 0o700 if stat.S_ISDIR(mode) else 0o600
            if stat.S_IMODE(mode) & ~expected:
                found.append(f"{path.relative_to(data.parent)} {stat.S_IMODE(mode):o}")
    return found


def test_a_run_keeps_its_database_secrets_redis_dump_and_emails_for_its_owner(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    run = Run(data, "--demo")
    try:
        run.until(lambda: outbox(data) == ["prep_note", "proposal"], "prep note and proposal")
        run.until(lambda: "running on" in run.text(), "start")  # the demo writes before it serves
        assert run.stop() == 0
    finally:
        run.end()

    written = {p.name for p in data.rglob("*")}
    assert {"touchpoint.db", "secret_key", "encryption_key", "redis.rdb", "outbox"} <= written
    assert any(name.endswith(".eml") for name in written)
    assert open_to_others(data) == []
    assert "open to other users" not in run.text()  # nothing needed tightening: it was made so


def test_a_run_tightens_an_open_data_directory_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "outbox").mkdir(parents=True)
    (data / "outbox" / "old.eml").write_text(
        "Subject: a link from before\r\n\r\nhttp://x/signin/1.a"
    )
    for path, mode in (
        (data, 0o755),
        (data / "outbox", 0o755),
        (data / "outbox" / "old.eml", 0o644),
    ):
        path.chmod(mode)

    run = Run(data)
    try:
        run.until(lambda: "running on" in run.text(), "start")
        assert open_to_others(data) == []
        assert run.stop() == 0
    finally:
        run.end()

    (warning,) = [line for line in run.text().splitlines() if "open to other users" in line]
    assert warning.endswith("(3 entries changed to 0700 folders and 0600 files)")
