"""Schemathesis over the live OpenAPI document: generated requests (with a bureau token, so
commands are exercised) never get a 5xx. Bounded: a few examples per operation, no shrinking."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from test_api_helpers import make_api

_state: dict = {}


def _schema():  # noqa: ANN202
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="schemathesis-"))
    api, container = make_api(f"sqlite:///{tmp / 'events.sqlite3'}", tmp)
    _state.update(api=api, container=container)
    return schemathesis.openapi.from_asgi("/openapi.json", api.client.app)


schema = _schema()


@pytest.fixture(scope="module", autouse=True)
def _close():  # noqa: ANN202
    yield
    _state["container"].close()


@schema.parametrize()
@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case) -> None:  # noqa: ANN001
    headers = _state["api"].headers("bureau")
    case.call_and_validate(headers=headers, checks=[not_a_server_error])
