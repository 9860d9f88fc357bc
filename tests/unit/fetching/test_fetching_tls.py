"""HTTPS: connect to the checked address, verify the certificate for the real host name.

A throw-away CA signs a certificate for ``secure.test``; an HTTPS server on 127.0.0.1 presents
it. The fake resolver maps the names to 127.0.0.1, so a successful fetch proves that SNI and
certificate verification used the host name while the socket went to the address.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from newsflow.errors import PermanentError, Reason, TransientError
from newsflow.fetching import SafeFetcher
from newsflow.settings import FetchPolicy

HTML = b"<!DOCTYPE html><html><body><p>Secure story.</p></body></html>"


@dataclass
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("newsflow test CA"))
        .issuer_name(_name("newsflow test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("secure.test"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("secure.test")]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    certs = Certificates(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    certs.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    certs.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certs.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certs


@dataclass
class TLSServer:
    port: int
    server_names: list[str | None] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(HTML)))
        self.end_headers()
        self.wfile.write(HTML)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # failed handshakes are what some tests are about


@pytest.fixture
def tls_server(certificates: Certificates) -> Iterator[TLSServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.cert_file, certificates.key_file)
    server = _Server(("127.0.0.1", 0), _Handler)
    state = TLSServer(port=server.server_address[1])

    def remember_sni(sock: Any, server_name: str | None, ctx: Any) -> None:
        state.server_names.append(server_name)

    context.sni_callback = remember_sni
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def trust_test_ca(certificates: Certificates, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the default trust store (what the fetcher verifies against) the test CA."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def _fetcher(fake_dns) -> SafeFetcher:
    fake_dns.table["secure.test"] = ["127.0.0.1"]
    fake_dns.table["other.test"] = ["127.0.0.1"]
    policy = FetchPolicy.model_validate({"allow_loopback": True, "timeout_seconds": 3.0})
    return SafeFetcher(policy, resolver=fake_dns)


def test_https_verifies_the_host_name_while_dialling_the_address(
    tls_server, trust_test_ca, fake_dns
) -> None:
    # GIVEN secure.test resolving to 127.0.0.1 and a server certificate for secure.test
    fetcher = _fetcher(fake_dns)
    # WHEN fetched over HTTPS
    page = fetcher.fetch(f"https://secure.test:{tls_server.port}/story")
    # THEN the page arrives, and the TLS handshake named secure.test (SNI)
    assert page.body == HTML
    assert tls_server.server_names == ["secure.test"]


def test_certificate_for_another_host_is_a_tls_error(tls_server, trust_test_ca, fake_dns) -> None:
    # GIVEN other.test served with secure.test's (trusted) certificate
    fetcher = _fetcher(fake_dns)
    # WHEN fetched over HTTPS
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch(f"https://other.test:{tls_server.port}/")
    # THEN it is a permanent TLS error - no retry without verification
    assert caught.value.reason is Reason.TLS_ERROR
    assert "certificate verification failed" in caught.value.detail
    assert "other.test" in caught.value.detail


def test_untrusted_certificate_is_a_tls_error(tls_server, fake_dns, monkeypatch) -> None:
    # GIVEN a trust store that does not hold the test CA
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent-trust-store.pem")
    fetcher = _fetcher(fake_dns)
    # WHEN fetched over HTTPS
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch(f"https://secure.test:{tls_server.port}/")
    # THEN verification fails permanently, and no second (insecure) attempt reached the server
    assert caught.value.reason is Reason.TLS_ERROR
    assert len(tls_server.server_names) == 1


def test_server_that_does_not_speak_tls_is_a_tls_error(hostile_server, fake_dns) -> None:
    # GIVEN a plain-HTTP server addressed with https://
    fetcher = _fetcher(fake_dns)
    # WHEN fetched
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch(f"https://secure.test:{hostile_server.port}/page")
    # THEN it is a permanent TLS error
    assert caught.value.reason is Reason.TLS_ERROR


def test_hang_up_during_the_handshake_is_transient(fake_dns) -> None:
    # GIVEN a server that reads the TLS greeting and closes the connection
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def hang_up() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        # WHEN fetched over HTTPS
        with pytest.raises(TransientError) as caught:
            _fetcher(fake_dns).fetch(f"https://secure.test:{port}/")
    finally:
        thread.join(timeout=5)
        listener.close()
    # THEN it is a transient connection error (a retry may well succeed)
    assert caught.value.reason is Reason.CONNECTION_ERROR
    assert "hung up during the TLS handshake" in caught.value.detail
