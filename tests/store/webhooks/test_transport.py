"""The connection goes to the vetted address while Host and TLS SNI keep the host name, TLS
certificates are verified, and the whole exchange has a hard deadline."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from store.webhooks import transport
from store.webhooks.config import WebhookConfig
from tests.webhook_support import receiver

LOCAL = WebhookConfig(allow_networks=(ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")))


def test_a_host_name_is_resolved_vetted_and_sent_as_host() -> None:
    with receiver() as rx:
        port = rx.url.split(":")[2].split("/")[0]
        outcome = transport.post(
            f"http://localhost:{port}/hook?x=1", b"{}", {"content-type": "application/json"}, LOCAL
        )
    assert outcome.status_code == 200, outcome
    assert rx.received[0].headers["host"] == f"localhost:{port}"


def test_a_name_resolving_to_a_refused_address_is_never_connected() -> None:
    with receiver() as rx:
        port = rx.url.split(":")[2].split("/")[0]
        outcome = transport.post(f"http://localhost:{port}/hook", b"{}", {}, WebhookConfig())
    assert (
        outcome.status_code is None and outcome.error == "Refused to connect: the destination is not allowed"
    )
    assert rx.received == []  # and the error does not say which address (no DNS oracle)


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@contextmanager
def tls_listener(tmp: Path) -> Iterator[tuple[int, list[str | None]]]:
    """A TLS server that records the SNI name of every handshake (then drops the connection)."""
    cert, key = _self_signed(tmp)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,func-returns-value]
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], names
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def test_https_keeps_sni_on_the_host_name_and_verifies_the_certificate(tmp_path: Path) -> None:
    with tls_listener(tmp_path) as (port, names):
        outcome = transport.post(f"https://localhost:{port}/hook", b"{}", {}, LOCAL)
    assert names == ["localhost"]  # SNI is the host name though the socket went to 127.0.0.1
    assert outcome.status_code is None and outcome.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.error  # a self-signed certificate is refused


def test_the_whole_exchange_has_a_hard_deadline() -> None:
    """A server that accepts and never answers: the attempt ends at the total deadline."""
    server = socket.create_server(("127.0.0.1", 0))
    try:
        quick = WebhookConfig(allow_networks=LOCAL.allow_networks, total_timeout=0.5, connect_timeout=0.5)
        outcome = transport.post(f"http://127.0.0.1:{server.getsockname()[1]}/", b"{}", {}, quick)
    finally:
        server.close()
    assert outcome.status_code is None and outcome.error is not None and "Timed out" in outcome.error
