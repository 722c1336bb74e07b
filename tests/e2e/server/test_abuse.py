"""A real server refuses an endless chunked upload without buffering it."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest

from tests.e2e.server.conftest import Server

CHUNK = 64 * 1024
ATTEMPT = 64 * 1024 * 1024


@pytest.fixture
def server(shared_server: Server) -> Server:
    """One server for both tests: they store nothing (every request is refused)."""
    return shared_server


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _chunked_upload(server: Server, path: str, authorization: str | None) -> tuple[int, bytes]:
    """Send up to 64 MB as chunks of JSON-ish spaces; how much went out, and the answer."""
    head = f"POST {path} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
    head += "Content-Type: application/json\r\n"
    if authorization:
        head += f"Authorization: {authorization}\r\n"
    chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall((head + "\r\n").encode())
        try:
            while sent < ATTEMPT:
                connection.sendall(chunk)
                sent += CHUNK
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        answer = b""
        try:
            while not answer.endswith(b"}") and (part := connection.recv(65536)):
                answer += part
        except (ConnectionResetError, TimeoutError):
            pass
    return sent, answer


def test_an_endless_chunked_batch_is_cut_off_at_its_limit(server: Server) -> None:
    assert server.process is not None
    before = _rss_kib(server.process.pid)
    key = base64.b64encode(f"{server.track_key}:".encode()).decode()
    sent, answer = _chunked_upload(server, "/v1/batch", f"Basic {key}")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"too_large"' in answer
    assert sent < ATTEMPT  # the server stopped reading and closed the connection
    assert _rss_kib(server.process.pid) - before < 50 * 1024


def test_an_unauthenticated_upload_is_refused_before_its_body(server: Server) -> None:
    sent, answer = _chunked_upload(server, "/v1/contacts", None)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert sent < ATTEMPT
