"""Contacts' own settings, read by the one settings loader."""

import pytest

from services.contacts.settings import ASYNC_UPLOAD_BYTES, ContactsSettings
from shared.config import ConfigError, load_settings


def test_the_background_threshold_comes_from_its_variable_or_defaults_to_2_mib():
    assert (
        load_settings(
            "contacts", environ={"JWT_PUBLIC_KEY_FILE": "/keys/jwt-public.pem"}, cls=ContactsSettings
        ).async_upload_bytes
        == ASYNC_UPLOAD_BYTES
        == 2 * 1024 * 1024
    )
    environ = {
        "JWT_PUBLIC_KEY_FILE": "/keys/jwt-public.pem",
        "CONTACTS_ASYNC_UPLOAD_BYTES": "1000",
        "MAX_UPLOAD_BYTES": "5000",
    }
    settings = load_settings("contacts", environ=environ, cls=ContactsSettings)
    assert (settings.async_upload_bytes, settings.max_upload_bytes) == (1000, 5000)
    with pytest.raises(ConfigError, match="CONTACTS_ASYNC_UPLOAD_BYTES"):
        load_settings(
            "contacts",
            environ={**environ, "CONTACTS_ASYNC_UPLOAD_BYTES": "2MB"},
            cls=ContactsSettings,
        )
