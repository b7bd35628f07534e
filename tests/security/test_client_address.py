"""Issue 12, finding 3: the client address that per-address limits key on (SPEC §5, `CRM_TRUSTED_PROXIES`)."""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import given
from hypothesis import strategies as st

from entrypoints.http.client_address import client_address, trusted_networks

TRUSTED = trusted_networks("10.0.0.0/8, fd00::/8")


def h(**headers: str) -> list[tuple[bytes, bytes]]:
    return [(name.replace("_", "-").lower().encode(), value.encode()) for name, value in headers.items()]


def test_without_trusted_proxies_the_connection_address_is_the_client() -> None:
    assert client_address("203.0.113.5", h(x_forwarded_for="192.0.2.1"), ()) == "203.0.113.5"
    assert client_address("203.0.113.5", h(forwarded="for=192.0.2.1"), TRUSTED) == "203.0.113.5"


def test_behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client() -> None:
    chain = h(x_forwarded_for="1.2.3.4, 192.0.2.77, 10.1.1.1")
    assert client_address("10.0.0.2", chain, TRUSTED) == "192.0.2.77"
    assert client_address("10.0.0.2", h(forwarded='for=1.1.1.1, for="[2001:db8::17]:4711";proto=https'), TRUSTED) == (
        "2001:db8::17"
    )
    assert client_address("10.0.0.2", h(x_forwarded_for="192.0.2.8:5555"), TRUSTED) == "192.0.2.8"
    assert client_address("10.0.0.2", [], TRUSTED) == "10.0.0.2"
    assert client_address("10.0.0.2", h(x_forwarded_for="10.9.9.9"), TRUSTED) == "10.9.9.9"  # all ours: the first


def test_two_headers_naming_different_clients_key_on_the_proxy() -> None:
    both = h(x_forwarded_for="192.0.2.1", forwarded="for=192.0.2.2")
    assert client_address("10.0.0.2", both, TRUSTED) == "10.0.0.2"


def test_trusted_proxies_setting_rejects_what_is_not_a_cidr() -> None:
    import pytest
    from pydantic import ValidationError

    from entrypoints.settings import Settings

    with pytest.raises(ValidationError, match="CRM_TRUSTED_PROXIES"):
        Settings(trusted_proxies="10.0.0.0/8, example.com")


addresses = st.builds(IPv4Address, st.integers(min_value=0x0B000000, max_value=0xDFFFFFFF)).map(str)  # not 10/8
proxies = st.lists(
    st.integers(min_value=1, max_value=2**24 - 2).map(lambda n: str(IPv4Address(0x0A000000 + n))),
    min_size=1,
    max_size=4,
)
junk = st.lists(st.one_of(addresses, st.just("unknown"), st.text(alphabet="abc:[]_", max_size=8)), max_size=4)


@given(forged=junk, client=addresses, hops=proxies)
def test_a_client_cannot_choose_the_address_it_is_counted_as(forged: list[str], client: str, hops: list[str]) -> None:
    """Whatever a client writes into X-Forwarded-For, our proxies append what they saw; the client is the address
    our first proxy saw."""
    xff = ", ".join([*forged, client, *hops[:-1]])
    assert client_address(hops[-1], h(x_forwarded_for=xff), TRUSTED) == client
