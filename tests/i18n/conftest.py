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
