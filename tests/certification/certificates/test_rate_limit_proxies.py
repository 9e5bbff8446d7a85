"""Behind a reverse proxy the rate limit counts each visitor, not the proxy: the address the trusted proxy forwards,
never what a client writes in the header itself."""

import pytest

from certification.certificates.ratelimit import client_address


def address(rf, remote: str, forwarded: str | None = None) -> str:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(rf.get("/", REMOTE_ADDR=remote, **headers))


def test_without_trusted_proxies_the_header_is_ignored(rf, settings):
    settings.TRUSTED_PROXIES = []
    assert address(rf, "203.0.113.5", "198.51.100.7") == "203.0.113.5"


def test_from_a_trusted_proxy_the_forwarded_client_counts(rf, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert address(rf, "127.0.0.1", "198.51.100.7") == "198.51.100.7"
    # A chain of proxies: the nearest hop that is not one of ours.
    assert address(rf, "127.0.0.1", "198.51.100.7, 10.1.2.3") == "198.51.100.7"
    # What the client wrote itself (left of the hop our proxy saw) cannot choose its bucket.
    assert address(rf, "127.0.0.1", "1.2.3.4, 198.51.100.7") == "198.51.100.7"
    assert address(rf, "127.0.0.1", "2001:db8:1:2::9") == "2001:db8:1:2::/64"


def test_the_header_from_anyone_but_a_trusted_proxy_is_ignored(rf, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert address(rf, "203.0.113.5", "198.51.100.7") == "203.0.113.5"


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "198.51.100.7, junk"])
def test_a_missing_or_malformed_header_falls_back_to_what_can_be_told(rf, settings, forwarded):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    got = address(rf, "127.0.0.1", forwarded)
    assert got == "127.0.0.1"  # no hop can be told from a forgery: the proxy's own budget


@pytest.mark.django_db
def test_two_visitors_behind_the_proxy_have_a_budget_each(client, settings, certificate):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.VERIFY_RATE_LIMIT_PER_MINUTE = 2
    url = f"/verify/{certificate.verification_code}/"
    first = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    second = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.8"}
    assert [client.get(url, **first).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(url, **second).status_code == 200
