"""A TLS terminator for tests: a CA made on the spot, and TLS in front of a plaintext port.

Why not nginx or stunnel: Temporal Cloud refuses a missing or foreign client
certificate during the handshake, and so does this terminator (OpenSSL, through
Python's `ssl`, with `CERT_REQUIRED`); nginx completes the handshake and answers
HTTP 400, which no real cluster does. It negotiates `h2` by ALPN for gRPC and
`http/1.1` for S3, and for gRPC it can require an API key: it decodes each
request's HTTP/2 header block (HPACK) and drops a connection whose
`authorization` is not the expected one, recording every value it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import hpack
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from a2a_temporal._process import free_port

_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_HEADERS, _CONTINUATION = 0x1, 0x9
_END_HEADERS, _PADDED, _PRIORITY = 0x4, 0x8, 0x20


@dataclass
class Pem:
    """A certificate and its key, as PEM files."""

    cert: Path
    key: Path


@dataclass
class LocalCA:
    """A CA that signs server and client certificates, written under `directory`."""

    directory: Path
    name: str = "a2a-temporal test CA"
    _key: ec.EllipticCurvePrivateKey = field(init=False)
    _cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        self._cert = (
            _builder(subject, subject, self._key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        self.cert = self.directory / f"{self.name.replace(' ', '-')}.pem"
        self.cert.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, *, hosts: tuple[str, ...] = (), client: bool = False) -> Pem:
        """A certificate for `name` (server: valid for `hosts`; client: for client auth)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = _builder(subject, self._cert.subject, key.public_key())
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(host) for host in hosts]),
                critical=False,
            )
        usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else None
        usage = usage or x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        pem = Pem(self.directory / f"{name}.pem", self.directory / f"{name}.key")
        pem.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pem.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return pem


class TlsTerminator:
    """TLS on `127.0.0.1:<port>` in front of plaintext `target_port`.

    Args:
        target_port: Where the plaintext server listens.
        server: The terminator's certificate.
        client_ca: Require client certificates signed by this CA.
        api_key: Require `authorization: Bearer <api_key>` on every HTTP/2 request.
    """

    def __init__(
        self,
        target_port: int,
        server: Pem,
        *,
        client_ca: Path | None = None,
        api_key: str | None = None,
    ) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.authorizations: list[str] = []
        self.refused_handshakes = 0
        self._api_key = api_key
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(server.cert, server.key)
        self._context.set_alpn_protocols(["h2", "http/1.1"])
        if client_ca is not None:
            self._context.verify_mode = ssl.CERT_REQUIRED
            self._context.load_verify_locations(client_ca)
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for link in list(self._links):
            link.cancel()
        await asyncio.gather(*self._links, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        tls = _TlsLink(self._context, reader, writer)
        try:
            try:
                await tls.handshake()
            except ssl.SSLError:
                self.refused_handshakes += 1
                await tls.linger()
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            upstream = self._checked if self._api_key is not None else _to_upstream
            await asyncio.gather(upstream(tls, up_writer), _to_client(up_reader, tls))
        except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass
        finally:
            self._links.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _checked(self, tls: _TlsLink, writer: asyncio.StreamWriter) -> None:
        """Forward HTTP/2 frames, dropping the connection at a request without the key."""
        try:
            writer.write(await tls.read_exactly(len(_PREFACE)))
            decoder = hpack.Decoder()
            block = b""
            while True:
                header = await tls.read_exactly(9)
                length = int.from_bytes(header[:3], "big")
                kind, flags = header[3], header[4]
                payload = await tls.read_exactly(length)
                if kind in (_HEADERS, _CONTINUATION):
                    block += _fragment(kind, flags, payload)
                    if flags & _END_HEADERS:
                        headers = {_text(k): _text(v) for k, v in decoder.decode(block)}
                        block = b""
                        seen = headers.get("authorization", "")
                        self.authorizations.append(seen)
                        if seen != f"Bearer {self._api_key}":
                            return
                writer.write(header + payload)
                await writer.drain()
        except EOFError:
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


class _TlsLink:
    """The server side of one TLS connection, over memory BIOs so that every alert is sent.

    (asyncio's own TLS drops the alert of a failed handshake, so a client without a
    certificate would see a bare EOF instead of `certificate required`.)
    """

    def __init__(
        self, context: ssl.SSLContext, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._reader, self._writer = reader, writer
        self._buffer = b""

    async def handshake(self) -> None:
        """Complete the handshake; on failure send the alert, then raise `ssl.SSLError`."""
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                await self._flush()
                if not await self._fill():
                    raise ssl.SSLError("the client left during the handshake") from None
                continue
            except ssl.SSLError:
                await self._flush()
                raise
            await self._flush()
            return

    async def linger(self) -> None:
        """After an alert, read until the client closes (a close with unread bytes resets it)."""
        with contextlib.suppress(TimeoutError, ConnectionError):
            async with asyncio.timeout(2.0):
                while await self._reader.read(65536):
                    pass

    async def read(self) -> bytes:
        """Plaintext from the client; b"" once it has closed."""
        while True:
            try:
                data = self._tls.read(65536)
            except ssl.SSLWantReadError:
                await self._flush()
                if not await self._fill():
                    return b""
                continue
            except ssl.SSLZeroReturnError:
                return b""
            await self._flush()
            return data

    async def read_exactly(self, size: int) -> bytes:
        """Exactly `size` bytes of plaintext; `EOFError` if the client closes first."""
        while len(self._buffer) < size:
            data = await self.read()
            if not data:
                raise EOFError
            self._buffer += data
        chunk, self._buffer = self._buffer[:size], self._buffer[size:]
        return chunk

    async def write(self, data: bytes) -> None:
        """Send plaintext to the client."""
        self._tls.write(data)
        await self._flush()

    async def _fill(self) -> bool:
        data = await self._reader.read(65536)
        if not data:
            return False
        self._incoming.write(data)
        return True

    async def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self._writer.write(data)
            await self._writer.drain()


async def _to_upstream(tls: _TlsLink, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await tls.read():
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _to_client(reader: asyncio.StreamReader, tls: _TlsLink) -> None:
    while data := await reader.read(65536):
        await tls.write(data)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _fragment(kind: int, flags: int, payload: bytes) -> bytes:
    """The header block fragment of a HEADERS or CONTINUATION frame's payload."""
    if kind == _CONTINUATION:
        return payload
    start, end = 0, len(payload)
    if flags & _PADDED:
        end -= payload[0]
        start = 1
    if flags & _PRIORITY:
        start += 5
    return payload[start:end]


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


__all__ = ["LocalCA", "Pem", "TlsTerminator"]
