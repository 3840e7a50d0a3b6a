"""Schemathesis over the live OpenAPI document, in three runs: requests valid by the schema,
requests that break it (negative mode: wrong types, missing and extra fields, odd headers and
parameters), and stateful sequences that follow the links schemathesis infers from the
responses (apply → intake → scores …, with the ids a command returned).

After every request: no 5xx; a refused request (4xx) wrote nothing to the log (its position is
unchanged: no partial write); and after a write, the read models catch up without stalling
(no projection stopped at an event it cannot apply, ``/readyz`` not ``stalled``). Each request
carries the token of the role its route admits, so commands get past authorization and reach
validation and the rules. Bounded for CI (a few examples per operation, no shrinking).
PostgreSQL's side of "no event stalls a projection" is tested in test_projections_failures."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from api_client import make_api

_state: dict = {}

# Who may send each command (docs/API.md); reads go as the bureau, the audit routes as the auditor,
# an objection as the anonymous public.
ROLE_OF_COMMAND = {
    "platforms": "applicant", "intake": "service_agency", "scores": "expert1", "major-changes": "applicant",
    "acceptance-application": "applicant", "acceptance-review": "service_agency", "withdrawal": "applicant",
    "funding": "finance", "recovery": "finance", "objections": None,
}
# The archive import's body is JSON lines (docs/IMPORT.md), which schemathesis cannot build from
# a schema: the example archive whole, one of its lines, and any text or bytes.
ARCHIVE = (Path(__file__).resolve().parents[1] / "docs" / "archive-example.jsonl").read_bytes()
schemathesis.openapi.media_type("application/x-ndjson", st.one_of(
    st.just(ARCHIVE), st.sampled_from(ARCHIVE.splitlines(keepends=True)), st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))))
BOUNDED = settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.generate],
                   suppress_health_check=list(HealthCheck))


def _schema():
    tmp = Path(tempfile.mkdtemp(prefix="schemathesis-"))
    api, container = make_api(f"sqlite:///{tmp / 'events.sqlite3'}", tmp)
    _state.update(api=api, container=container)
    return schemathesis.openapi.from_asgi("/openapi.json", api.client.app)


schema = _schema()


@pytest.fixture(scope="module", autouse=True)
def _close():
    yield
    _state["container"].close()


def _user_for(method: str, path: str) -> str | None:
    if method.upper() != "POST":
        return "auditor" if "/audit/" in path else "bureau"
    return ROLE_OF_COMMAND.get(path.rstrip("/").rsplit("/", 1)[-1], "bureau")


def _headers_for(case) -> dict[str, str]:
    """The role's token, unless the case itself sends an Authorization header (a negative case)."""
    sent = {k.lower(): v for k, v in (case.headers or {}).items()}
    if "authorization" in sent:
        return {}
    return _state["api"].headers(_user_for(case.method, case.operation.path))


def _position() -> int:
    return _state["container"].app.recorder.max_notification_id() or 0


def _read_models_follow(position: int) -> None:
    container, api = _state["container"], _state["api"]
    container.runner.wait_for(position, timeout=5.0)
    failures = {m["name"]: m["failure"] for m in container.runner.status() if "failure" in m}
    assert not failures, failures
    ready = api.client.get("/api/v1/readyz").json()
    assert ready["status"] != "stalled", ready


def _checked(case, response: Any, before: int) -> None:
    """What must hold after any request, valid or not."""
    status = response.status_code
    assert status < 500, (case.method, case.formatted_path, case.body, status, response.text[:500])
    after = _position()
    if 400 <= status < 500:
        assert after == before, (case.method, case.formatted_path, status, "a refused request wrote",
                                 before, after)
    if after != before:
        _read_models_follow(after)


def _exercise(case) -> None:
    before = _position()
    _checked(case, case.call(headers=_headers_for(case)), before)


@schema.parametrize()
@BOUNDED
def test_no_server_errors(case) -> None:
    _exercise(case)


negative = schemathesis.openapi.from_asgi("/openapi.json", _state["api"].client.app)
negative.config.generation.update(modes=[GenerationMode.NEGATIVE])


@negative.include(method="POST").parametrize()
@BOUNDED
def test_commands_that_break_the_schema_are_refused_without_writing(case) -> None:
    _exercise(case)


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """Sequences of calls along the inferred links, each checked as above."""

    def setup(self) -> None:
        self._before = _position()

    def before_call(self, case) -> None:
        self._before = _position()

    def get_call_kwargs(self, case) -> dict[str, Any]:
        return {"headers": _headers_for(case)}

    def validate_response(self, response, case, additional_checks=None, **kwargs: Any) -> None:
        _checked(case, response, self._before)


def test_stateful_sequences_never_fail_stall_or_half_write() -> None:
    Workflow.run(settings=settings(max_examples=8, stateful_step_count=8, deadline=None,
                                   phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
