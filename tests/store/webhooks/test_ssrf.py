"""Where webhooks may go: every class of non-global address is refused, in every spelling."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.webhooks import ssrf

LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.0/8"),)


def refused(url: str, allow: tuple[ssrf.IPNetwork, ...] = (), production: bool = False) -> bool:
    return bool(ssrf.check_url(url, production=production, allow=allow))


@pytest.mark.parametrize(
    "url",
    [
        # IPv4 classes
        "http://127.0.0.1/",
        "http://0.0.0.0/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://255.255.255.255/",
        "http://192.0.0.8/",
        "http://198.18.0.1/",
        # IPv6 classes
        "http://[::1]/",
        "http://[::]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[fd12:3456::1]/",
        "http://[ff02::1]/",
        "http://[fec0::1]/",
        "http://[2001:db8::1]/",
        # IPv4 inside IPv6
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::127.0.0.1]/",
        "http://[64:ff9b::10.0.0.1]/",
        "http://[2002:7f00:1::]/",
        # numeric spellings resolvers accept
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://017700000001/",
        "http://10.1/",
    ],
)
def test_non_global_literals_are_refused_at_creation(url: str) -> None:
    assert refused(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/x",
        "https://93.184.216.34/x",
        "http://[2606:4700:4700::1111]/",
        "https://xn--bcher-kva.example/",
    ],
)
def test_global_addresses_and_host_names_are_accepted(url: str) -> None:
    assert not refused(url)


def test_the_allow_list_admits_chosen_networks_only() -> None:
    assert not refused("http://127.0.0.1:8080/hook", LOOPBACK_ONLY)
    assert refused("http://10.0.0.1/", LOOPBACK_ONLY)
    assert refused("http://[::1]/", LOOPBACK_ONLY)
    assert refused("http://2130706433/", LOOPBACK_ONLY)  # ambiguous spellings are refused regardless


@pytest.mark.parametrize(
    "url",
    [
        "ftp://h.example.com/",
        "https://u:p@h.example.com/",
        "https://u@h.example.com/",
        "https://h.example.com/#x",
        "https:///nohost",
        "https://h.example.com:0x50/",
        "https://bücher.example/",
        "https://h.example.com/a b",
        "javascript:alert(1)",
        "https://h.example.com:70000/",
    ],
)
def test_malformed_urls_are_refused(url: str) -> None:
    assert refused(url)


def test_http_only_outside_production() -> None:
    assert not refused("http://hooks.example.com/")
    assert refused("http://hooks.example.com/", production=True)
    assert not refused("https://hooks.example.com/", production=True)


_private = st.sampled_from(
    [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "0.0.0.0/8",
        "224.0.0.0/4",
        "240.0.0.0/4",
    ]
)


@given(_private, st.integers(min_value=0, max_value=2**32 - 1))
def test_property_every_spelling_of_a_non_global_ipv4_is_refused(network: str, seed: int) -> None:
    net = ipaddress.ip_network(network)
    address = net[seed % net.num_addresses]
    value = int(address)
    spellings = [
        str(address),
        str(value),
        hex(value),
        f"[::ffff:{address}]",
        f"[64:ff9b::{address}]",
        ".".join(f"0{int(o):o}" for o in str(address).split(".")),
        ".".join(hex(int(o)) for o in str(address).split(".")),
    ]
    for host in spellings:
        assert refused(f"http://{host}/"), host


def test_resolution_vets_every_address_of_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        answers = {
            "mixed.example": ["93.184.216.34", "10.0.0.5"],
            "public.example": ["93.184.216.34"],
            "rebind.example": ["::ffff:127.0.0.1"],
        }
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    assert ssrf.resolve("public.example", 443, ()) == ["93.184.216.34"]
    for host in ("mixed.example", "rebind.example"):  # one private address among public ones is enough
        with pytest.raises(ssrf.Refused, match="the destination is not allowed") as refusal:
            ssrf.resolve(host, 443, ())
        # The delivery log (read through the API) must not tell which internal address it was.
        assert "10.0.0.5" not in str(refusal.value) and "127.0.0.1" not in str(refusal.value)
    assert ssrf.resolve("rebind.example", 443, LOOPBACK_ONLY) == ["::ffff:127.0.0.1"]  # it reaches 127.0.0.1


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1: the packet goes to a 6to4 relay, not to 127.0.0.1
        "64:ff9b::7f00:1",  # NAT64 wrapping 127.0.0.1: it goes to the NAT64 gateway
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1
    ],
)
def test_an_allowed_ipv4_network_does_not_admit_ipv6_forms_that_only_embed_it(address: str) -> None:
    assert ssrf.refusal(ipaddress.ip_address(address), LOOPBACK_ONLY) is not None


def test_localhost_by_name_is_refused_at_delivery_unless_allowed() -> None:
    with pytest.raises(ssrf.Refused):
        ssrf.resolve("localhost", 80, ())
    assert set(ssrf.resolve("127.0.0.1", 80, LOOPBACK_ONLY)) == {"127.0.0.1"}
