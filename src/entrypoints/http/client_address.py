"""The client address that per-address limits key on (SPEC §5): the connection's peer, unless that peer is one of
our proxies (`CRM_TRUSTED_PROXIES`); then the right-most address of the forwarding chain that is not one of
them — the last hop our own proxies saw, which a client cannot forge (it can only add entries to the left).

The chain is `X-Forwarded-For` or, without it, `Forwarded` (RFC 7239 `for=`). A request that carries both, naming
different clients, keys on the peer: a proxy appends to one of them, so the other was written by the client.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network
_MAX_TOKEN = 64


def trusted_networks(setting: str) -> tuple[Network, ...]:
    """The CIDRs of `CRM_TRUSTED_PROXIES` (comma-separated; a bare address is a /32 or /128)."""
    return tuple(ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip())


def _ip(token: str) -> IPv4Address | IPv6Address | None:
    token = token.strip().strip('"')
    if token.startswith("["):  # [v6] or [v6]:port
        token = token[1 : token.find("]")] if "]" in token else token[1:]
    elif token.count(":") == 1:  # v4:port
        token = token.split(":", 1)[0]
    try:
        return ip_address(token)
    except ValueError:
        return None


def _name(token: str) -> str:
    """A canonical address, or the (bounded) token itself when it is not one (`unknown`, `_hidden`)."""
    parsed = _ip(token)
    return str(parsed) if parsed is not None else token.strip().strip('"')[:_MAX_TOKEN] or "unknown"


def _chain(headers: Iterable[tuple[bytes, bytes]]) -> tuple[list[str] | None, list[str] | None]:
    xff: list[str] | None = None
    fwd: list[str] | None = None
    for raw_name, raw_value in headers:
        name = raw_name.lower()
        value = raw_value.decode("latin-1")
        if name == b"x-forwarded-for":
            xff = (xff or []) + [part for part in value.split(",") if part.strip()]
        elif name == b"forwarded":
            fwd = fwd or []
            for element in value.split(","):
                for pair in element.split(";"):
                    key, _, val = pair.partition("=")
                    if key.strip().lower() == "for" and val.strip():
                        fwd.append(val)
    return xff, fwd


def _rightmost_untrusted(chain: list[str], trusted: tuple[Network, ...]) -> str | None:
    for token in reversed(chain):
        parsed = _ip(token)
        if parsed is None or not any(parsed in net for net in trusted):
            return _name(token)
    return _name(chain[0]) if chain else None


def client_address(peer: str | None, headers: Iterable[tuple[bytes, bytes]], trusted: tuple[Network, ...]) -> str:
    """The address to count a request against (see the module's docstring)."""
    if not trusted:
        return peer or "unknown"
    peer_name = _name(peer) if peer else "unknown"
    peer_ip = _ip(peer) if peer else None
    if peer_ip is None or not any(peer_ip in net for net in trusted):
        return peer_name
    xff, fwd = _chain(headers)
    by_xff = _rightmost_untrusted(xff, trusted) if xff else None
    by_fwd = _rightmost_untrusted(fwd, trusted) if fwd else None
    if by_xff is not None and by_fwd is not None and by_xff != by_fwd:
        return peer_name
    return by_xff or by_fwd or peer_name
