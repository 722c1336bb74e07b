"""Schemathesis fuzzes every operation of the OpenAPI schema: no input may cause a server error.

The seed is fixed, so a run is reproducible: a failure names the operation and the request that
broke it (schemathesis prints a curl line to replay it). The app runs on SQLite with an admin key
(admin keys may also track), and rate limits are lifted so that every example reaches its handler.
Cases are valid requests (positive) and requests breaking the schema (negative); half of them
aim at ids that exist (a contact, a workflow, a form, a voucher …) so handlers go past 404.
The operations are fuzzed in PARTS tests, each on a fresh store of its own, so the parts run
on several pytest-xdist workers and each part's run is the same wherever it runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from lealta.bootstrap import Services, open_inbox
from lealta.clock import SystemClock
from lealta.config import Settings
from lealta.keys.service import create_key
from lealta.rest.app import create_app
from lealta.storage.base import utcnow
from lealta.storage.engine import make_engine
from lealta.storage.unit_of_work import UnitOfWork

EXAMPLES = 40  # per operation: about 4,000 requests in all
PARTS = 4  # every PARTS-th operation (in the schema's order), from the part's number on


@dataclass
class Fuzzed:
    app: FastAPI
    headers: dict[str, str]
    known: dict[str, str]  # path parameter -> an id that exists, so handlers go past 404


def _seed(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    """A contact, a workflow with its templates, a form and a voucher to aim requests at."""

    def made(answer: Any) -> dict[str, Any]:
        assert answer.status_code in (200, 201), answer.text
        found: dict[str, Any] = answer.json()
        return found

    contact = made(
        client.post(
            "/v1/contacts",
            json={"identifiers": {"email": "fuzz@example.com"}, "tags": ["vip"]},
            headers=headers,
        )
    )
    workflow = made(client.post("/v1/automations/templates/welcome-series", headers=headers))
    made(client.post("/v1/forms", json={"slug": "news", "list": "news"}, headers=headers))
    voucher = made(
        client.post(
            "/v1/vouchers",
            json={"contact_id": contact["id"], "kind": "percent", "value": 10},
            headers=headers,
        )
    )
    return {
        "contact_id": contact["id"],
        "workflow_id": workflow["id"],
        "template_id": "welcome",
        "slug": "news",
        "tag": "vip",
        "code": voucher["code"],
        "channel": "email",
        "name": "scoring",
    }


@pytest.fixture
def fuzzed(tmp_path: Path, _migrated_sqlite: Path) -> Iterator[Fuzzed]:
    path = tmp_path / "lealta.db"
    shutil.copyfile(_migrated_sqlite, path)
    url = f"sqlite:///{path}"
    settings = Settings(
        _env_file=None,
        database_url=url,
        environment="test",
        secret_key="fuzz-secret",
        process_in_server=False,
        admin_rate_limit=1_000_000,
        track_rate_limit=1_000_000,
    )
    uow = UnitOfWork(make_engine(url))
    with uow.transaction() as session:
        admin = create_key(session, scope="admin", name="fuzz", now=utcnow()).key
    services = Services(settings, uow, SystemClock(), open_inbox(url, uow))
    app = create_app(services)
    headers = {"Authorization": f"Bearer {admin}"}
    with TestClient(app) as client:
        known = _seed(client, headers)
    yield Fuzzed(app, headers, known)
    uow.engine.dispose()


@pytest.mark.parametrize("part", range(PARTS))
def test_no_input_causes_a_server_error(fuzzed: Fuzzed, part: int) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 80

    def replay(case: Any) -> str:
        return f"replay: {case.as_curl_command(headers=fuzzed.headers)}"

    for operation in operations[part::PARTS]:
        cases = st.one_of(operation.as_strategy(mode) for mode in schemathesis.GenerationMode)

        @given(case=cases, aim=st.booleans())
        @seed(20261206)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: Any, aim: bool) -> None:
            if aim and case.path_parameters:
                for name in case.path_parameters.keys() & fuzzed.known.keys():
                    case.path_parameters[name] = fuzzed.known[name]
            request = f"{case.method} {case.formatted_path}"
            try:
                response = case.call(headers=fuzzed.headers)
            except Exception as exc:  # the test client re-raises what the app did not handle
                failures.append(f"{request} raised {exc!r}\n  {replay(case)}")
                return
            if response.status_code >= 500:
                failures.append(
                    f"{request} answered {response.status_code}: {response.text[:300]}\n"
                    f"  {replay(case)}"
                )

        no_server_error()
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:20])
