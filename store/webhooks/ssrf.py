"""Where a webhook may go: the server must never be made to call its own network.

At creation (`check_url`, a 422 with the reason): ``https`` only (``http`` too outside
production), no credentials in the URL, no fragment, and a literal address must be global.
Numeric hosts in any form but the canonical dotted quad (``2130706433``, ``0x7f.1``,
``0177.0.0.1``, ``127.1``) are refused outright: resolvers disagree about them, which is what
SSRF filters get bypassed with. IPv4-mapped/compatible IPv6 literals are refused too (write the
IPv4 address).

At delivery (`resolve`): the host name is resolved and *every* address must be global, so a
name with one private address among public ones is refused; the connection then goes to the
vetted address itself (`store.webhooks.transport`), leaving no window for DNS rebinding.

Global means not loopback, private (RFC 1918), link-local (169.254/16, fe80::/10), CGNAT
(100.64/10), multicast, reserved, unspecified, unique-local (fc00::/7), site-local, nor any of
those wrapped in IPv4-mapped, 6to4, Teredo or NAT64 (64:ff9b::/96) forms.
``LEADPIPE_WEBHOOK_ALLOW_NETWORKS`` lists networks allowed anyway (local development, tests).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from store.errors import FieldError
from store.webhooks.config import IPNetwork

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# IANA special-purpose blocks that are not globally reachable, beyond what `ipaddress` flags on
# every supported Python (documentation, benchmarking, IETF protocol assignments, dummy).
SPECIAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
    )
)
GLOBAL_EXCEPTIONS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.9/32",
        "192.0.0.10/32",
        "2001:1::1/128",
        "2001:3::/32",
        "2001:4:112::/48",
        "2001:20::/28",
    )
)
MAX_URL_LENGTH = 2048


class Refused(Exception):
    """A destination the server will not connect to; the message says why."""


def _embedded(address: Address) -> list[Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.packed[:12] == bytes(12) and int(address) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        found.append(ipaddress.IPv4Address(address.packed[12:]))
    return found


def _class_of(address: Address) -> str | None:
    """Why ``address`` is not global (None when it is)."""
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("CGNAT (shared)", address in ipaddress.ip_network("100.64.0.0/10")),
        (
            "unique-local",
            isinstance(address, ipaddress.IPv6Address) and address in ipaddress.ip_network("fc00::/7"),
        ),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        (
            "special-purpose",
            any(address in n for n in SPECIAL if n.version == address.version)
            and not any(address in n for n in GLOBAL_EXCEPTIONS if n.version == address.version),
        ),
        ("non-global", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def refusal(address: Address, allow: Sequence[IPNetwork]) -> str | None:
    """None if a webhook may connect to ``address``, else the reason."""
    candidates = [*_embedded(address), address]  # the embedded IPv4 gives the clearer reason
    # The allow-list admits what the connection really reaches: the address itself, or the
    # IPv4 of an IPv4-mapped form (a dual-stack socket connects to it). A 6to4, Teredo or
    # NAT64 address goes to an IPv6 relay, so the IPv4 inside it admits nothing.
    reached: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        reached.append(address.ipv4_mapped)
    if any(target in network for target in reached for network in allow if target.version == network.version):
        return None
    for candidate in candidates:
        reason = _class_of(candidate)
        if reason is not None:
            wrapped = " (embedded in an IPv6 address)" if candidate is not address else ""
            return f"{candidate} is a {reason} address{wrapped}"
    return None


def _wraps_ipv4(address: Address) -> bool:
    """IPv4-mapped (``::ffff:a.b.c.d``) or IPv4-compatible (``::a.b.c.d``, deprecated) forms."""
    if not isinstance(address, ipaddress.IPv6Address):
        return False
    return address.ipv4_mapped is not None or (address.packed[:12] == bytes(12) and int(address) > 1)


def _literal(host: str) -> Address | None:
    """The address a host spells, if it is an IP literal; Refused for ambiguous numeric forms."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        socket.inet_aton(host)  # accepts 2130706433, 0x7f.1, 0177.0.0.1, 127.1 ...
    except OSError:
        return None
    raise Refused("A numeric host must be a dotted-decimal IPv4 address (a.b.c.d)")


def check_url(url: str, *, production: bool, allow: Sequence[IPNetwork]) -> list[FieldError]:
    """Problems with ``url`` as a webhook destination (empty: acceptable)."""

    def bad(message: str) -> list[FieldError]:
        return [FieldError("url", message)]

    if len(url) > MAX_URL_LENGTH or not url.isascii() or any(c <= " " or c == "\x7f" for c in url):
        return bad(
            f"Must be an ASCII URL of at most {MAX_URL_LENGTH} characters without spaces"
            " (IDN hosts in xn-- form)"
        )
    parts = urlsplit(url)
    schemes = ("https",) if production else ("https", "http")
    if parts.scheme not in schemes:
        return bad("Must use https" if production else "Must use https or http")
    if "@" in parts.netloc:
        return bad("Must not carry credentials (user:password@)")
    if parts.fragment or url.endswith("#"):
        return bad("Must not have a #fragment")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return bad("Must name a host")
    try:
        parts.port  # noqa: B018 (validates the port)
    except ValueError:
        return bad("Has an invalid port")
    try:
        address = _literal(host.split("%")[0])
    except Refused as exc:
        return bad(str(exc))
    if address is None:
        return [] if len(host) <= 253 else bad("Has a host name longer than 253 characters")
    if _wraps_ipv4(address):
        return bad("Must not use an IPv4-mapped or IPv4-compatible IPv6 address: write the IPv4 address")
    reason = refusal(address, allow)
    return bad(f"Must not point at a non-global address: {reason}") if reason else []


def resolve(host: str, port: int, allow: Sequence[IPNetwork]) -> list[str]:
    """Every address ``host`` resolves to, all vetted; Refused if any is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"Could not resolve the host: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Refused("The host resolves to no address")
    for text in addresses:
        if refusal(ipaddress.ip_address(text.split("%")[0]), allow) is not None:
            # Not which address, nor why: the delivery log is read through the API, and naming
            # the internal address a host resolves to would make it a DNS oracle.
            raise Refused("Refused to connect: the destination is not allowed")
    return addresses
