"""The language tests run on SQLite only: what they check does not depend on the database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    path = tmp_path / "touchpoint.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session", autouse=True)
def _catalogs_compiled() -> None:
    """Compile each .po newer than its .mo, as `make translations` does, so the pages show the
    catalogs these tests read (a test run straight from pytest, after a .po changed)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from service.engine.i18n import DIRECTORY

    for po in DIRECTORY.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parts[-3])
        with mo.open("wb") as target:
            write_mo(target, catalog)
