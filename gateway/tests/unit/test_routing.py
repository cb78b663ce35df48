"""Which service owns an API path: a pure rule of the gateway's proxy."""

from gateway.proxy import owner_of


def test_paths_route_to_their_owners():
    assert owner_of("/bills") == owner_of("/bills/7") == "billing"
    assert owner_of("/customers/by-phone/+91") == "customers"
    assert owner_of("/admin/audit") == "customers"
    assert owner_of("/contacts/uploads/3/errors") == "contacts"
    assert owner_of("/reminders/refills") == "reminders"
    assert owner_of("/reports/conversion") == "reporting"
    assert owner_of("/billsx") is None and owner_of("/admin/dead-letters") is None
