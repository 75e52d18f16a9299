"""What the booking and withdrawing tests share: a real SMTP server and the fake Google.

Each test gets settings that send mail to the test's SMTP server and reach Google at the fake,
and the box of those settings (the one the service opens secrets with).
"""

from __future__ import annotations

import pytest

from service.adapters.secrets import SecretBox
from service.config import Settings
from tests.google_server import FakeGoogle
from tests.smtp_server import SmtpServer


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer, google_server: FakeGoogle) -> Settings:
    return settings.with_changes(smtp=smtp_server.settings, google=google_server.google_settings())


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.encryption_keys)
