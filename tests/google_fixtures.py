"""The `google_server` pytest fixture: a fresh fake Google for each test.

Use it from a test module with `google_server = google_fixtures.google_server`, or make it
available everywhere by listing "tests.google_fixtures" in `pytest_plugins` of the root conftest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.google_server import FakeGoogle


@pytest.fixture
def google_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    """Start a fake Google on a free loopback port; stop it after the test.

    oauthlib refuses OAuth over plain http unless OAUTHLIB_INSECURE_TRANSPORT is set. The fake
    is plain http on loopback, so the variable is set here, for this test only; the service
    never sets it, so a misconfigured http:// endpoint in production still fails loudly.
    A browser test whose app runs in a subprocess must pass the variable to that process.
    """
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    fake = FakeGoogle().start()
    try:
        yield fake
    finally:
        fake.close()
    assert not fake.errors, "the fake Google failed:\n" + "\n".join(fake.errors)
