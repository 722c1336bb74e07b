"""Kill the server (SIGKILL) while clients are sending: every acknowledged event is stored
exactly once, and resending everything afterwards adds nothing."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time

from sqlalchemy import create_engine, text

from tests.e2e.server.conftest import Server

BATCH = 100


def _batch(client: int, number: int) -> bytes:
    return json.dumps(
        {
            "batch": [
                {
                    "type": "track",
                    "event": "Product Viewed",
                    "anonymousId": f"c{client}-{i % 7}",
                    "messageId": f"c{client}-b{number}-{i}",
                    "properties": {"n": i},
                }
                for i in range(BATCH)
            ]
        }
    ).encode()


def _send_until_refused(server: Server, client: int, acked: list[str], sent: list[int]) -> None:
    auth = "Basic " + base64.b64encode(f"{server.track_key}:".encode()).decode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        _send(connection, auth, client, acked, sent)
    finally:
        connection.close()


def _send(
    connection: http.client.HTTPConnection,
    auth: str,
    client: int,
    acked: list[str],
    sent: list[int],
) -> None:
    number = 0
    while True:
        body = _batch(client, number)
        try:
            connection.request(
                "POST",
                "/v1/batch",
                body,
                {"Authorization": auth, "Content-Type": "application/json"},
            )
            answer = connection.getresponse()
            answer.read()
        except (OSError, http.client.HTTPException):
            # the server died under us (refused, reset, or cut mid-answer): this batch was
            # not acknowledged
            return
        sent.append(number)
        if answer.status == 200:
            acked.extend(f"c{client}-b{number}-{i}" for i in range(BATCH))
        number += 1


def _stored(server: Server) -> dict[str, int]:
    engine = create_engine(server.database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT message_id, count(*) FROM events WHERE name = 'Product Viewed' "
                "GROUP BY message_id"
            )
        ).all()
    engine.dispose()
    return {row[0]: row[1] for row in rows}


def test_acknowledged_events_survive_a_kill_and_are_stored_once(server: Server) -> None:
    acked: list[str] = []
    sent: dict[int, list[int]] = {0: [], 1: []}
    senders = [
        threading.Thread(target=_send_until_refused, args=(server, c, acked, sent[c]))
        for c in (0, 1)
    ]
    for sender in senders:
        sender.start()
    # mid-stream (the processor busy applying, the API busy accepting): once ten batches were
    # acknowledged, however long a loaded machine takes to get there
    deadline = time.monotonic() + 300
    while len(acked) < 10 * BATCH:
        assert any(sender.is_alive() for sender in senders), "the clients stopped sending"
        assert time.monotonic() < deadline, f"{len(acked)} events acknowledged in 300 s"
        time.sleep(0.05)
    server.kill()
    for sender in senders:
        sender.join(15)
    assert len(acked) >= 10 * BATCH, "the test must kill the server mid-stream, not before"

    server.start()  # the processor applies what the inbox held at the kill
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stored = _stored(server)
        if set(acked) <= set(stored):
            break
        time.sleep(0.3)
    stored = _stored(server)
    missing = set(acked) - set(stored)
    assert not missing, f"{len(missing)} acknowledged events were lost"
    assert max(stored.values()) == 1

    # Clients retry everything they ever sent (acknowledged or not): nothing doubles.
    auth = "Basic " + base64.b64encode(f"{server.track_key}:".encode()).decode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for client, numbers in sent.items():
        for number in [*numbers, len(numbers)]:
            connection.request("POST", "/v1/batch", _batch(client, number), {"Authorization": auth})
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
    connection.close()
    expected = (sum(len(n) + 1 for n in sent.values())) * BATCH
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_stored(server)) < expected:
        time.sleep(0.3)
    stored = _stored(server)
    assert len(stored) == expected
    assert set(stored.values()) == {1}
