"""A client generated from the live OpenAPI document drives a whole programme round.

``openapi-python-client`` (the generator client developers use) writes a Python package from
``/openapi.json`` as the server sends it; the test imports it and, through its methods only,
signs in as every role and takes one platform from application to funding, revocation and
recovery, reading the queries between. So the document is good enough to build a working client
from: operation ids that make method names, request bodies and responses typed to what the
server accepts and sends, problem+json bodies parsed as such, optional authentication where the
route is public.

The server runs in a thread on a free port (real HTTP). Applicants and experts act only today
(docs/API.md): the server's "today" is set to each act's date, as tests/api_client.py does.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from types import ModuleType, SimpleNamespace
from typing import Any
from unittest.mock import patch

import pytest

from api_client import HOST, PASSWORD, application, scores, served_api
from support import Served

PACKAGE = "registry_client"
# The generator reads JSON, forms and files; the API's JSON Lines (the archive import, the audit
# export), its Atom feed and its workbook download are files to a client, which is how a client
# developer configures them (openapi-python-client's content_type_overrides).
CONFIG = """content_type_overrides:
  application/x-ndjson: application/octet-stream
  application/atom+xml: application/octet-stream
  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Any]]:
    with served_api(tmp_path_factory.mktemp("generated-client")) as (server, api):
        yield server, api.container


@pytest.fixture(scope="module")
def client_package(served: tuple[Served, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package generated from the served document, imported from a temporary directory."""
    import httpx

    server, _ = served
    out = tmp_path_factory.mktemp("codegen")
    document = out / "openapi.json"
    document.write_bytes(httpx.get(f"{server.base}/openapi.json").content)
    (out / "config.yaml").write_text(CONFIG)
    run = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document),
                          "--output-path", str(out / PACKAGE), "--meta", "none", "--config", str(out / "config.yaml")],
                         capture_output=True, text=True, timeout=120)
    said = run.stdout + run.stderr
    assert run.returncode == 0, said
    # Every operation becomes a method and every response is typed: the generator leaves out,
    # with a warning, what it cannot read.
    assert "WARNING" not in said, said
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


class Round:
    """The generated package's operations, called as one role or another, on a given day."""

    def __init__(self, package: ModuleType, base: str) -> None:
        self.package, self.base = package, base
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.public = package.Client(base_url=base, raise_on_unexpected_status=True)
        self.clients: dict[str, Any] = {}
        self.today = date(2022, 3, 1)

    def op(self, stage: str, name: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.{stage}.{name}")

    def sign_in(self, user: str) -> Any:
        """The user's client, signed in through ``signIn`` (the OAuth2 password form)."""
        if user not in self.clients:
            answer = self.op("authentication", "sign_in").sync(
                client=self.public, body=self.models.BodySignIn(username=user, password=PASSWORD))
            assert answer is not None and answer.token_type == "bearer", answer
            self.clients[user] = self.package.AuthenticatedClient(
                base_url=self.base, token=answer.access_token, raise_on_unexpected_status=True)
        return self.clients[user]

    def act(self, user: str | None, stage: str, name: str, day: str, body: dict[str, Any], model: str,
            **params: Any) -> Any:
        """Call operation ``name`` as ``user`` (None: the public) with ``body`` as model ``model``,
        on ``day``; the detailed response (status, parsed body)."""
        client = self.public if user is None else self.sign_in(user)
        self.today = date.fromisoformat(day)
        payload = getattr(self.models, model).from_dict({**body, "business_date": day})
        with patch("api.commands_support.today_in_shanghai", lambda: self.today):
            return self.op(stage, name).sync_detailed(client=client, body=payload, **params)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:400])
    return response.parsed


def test_generated_client_drives_a_whole_round(client_package: ModuleType, served: tuple[Served, Any]) -> None:
    server, container = served
    r = Round(client_package, server.base)

    applied = _ok(r.act("applicant", "application", "apply_platform", "2022-03-01", application(), "ApplyBody"), 201)
    pid = applied.id
    assert applied.status == "applied" and applied.host_unit.credit_code == HOST
    _ok(r.act("service_agency", "application", "review_intake", "2022-03-05",
              {"decision": "accepted", "reasons": "材料齐全"}, "IntakeBody", platform_id=pid))
    passing = scores(SimpleNamespace(container=container))
    for i in range(1, 6):
        _ok(r.act(f"expert{i}", "review", "score_platform", "2022-03-10", {"scores": passing}, "ScoresBody",
                  platform_id=pid))
    _ok(r.act("bureau", "review", "inspect_platform", "2022-04-01", {"passed": True, "findings": "符合"},
              "InspectionBody", platform_id=pid))
    _ok(r.act("bureau", "review", "approve_platform", "2022-09-01",
              {"party_group_meeting_ref": "PG-1", "vice_mayor_approval_ref": "VM-1", "funding_plan_ref": "FP-1"},
              "ApprovalBody", platform_id=pid))
    batch = _ok(r.act("bureau", "publicity", "publicize_batch", "2022-09-28",
                      {"batch_ref": "公示-2022-1", "media": "长沙晚报", "start_date": "2022-09-29",
                       "platform_ids": [pid]}, "PublicityBatchBody"), 201)
    assert batch.end_date.isoformat() == "2022-10-10"  # five working days across National Day 2022

    # The public objects without an account (optional authentication), in the window.
    objected = _ok(r.act(None, "publicity", "file_objection", "2022-10-09",
                         {"objector_name": "张三", "contact": "13800138000", "content": "申报数据不实，请予核查"},
                         "ObjectionBody", platform_id=pid))
    assert objected.admissible is True
    # A refusal is parsed as a problem, with its code and article.
    refused = r.act("bureau", "establishment", "issue_notice", "2022-10-11",
                    {"document_ref": "长科发〔2022〕50号"}, "NoticeBody", platform_id=pid)
    assert refused.status_code == 409
    assert isinstance(refused.parsed, r.models.Problem)
    assert refused.parsed.code == "objections_unresolved" and refused.parsed.article == "Art. 8(7)"
    _ok(r.act("bureau", "publicity", "resolve_objection", "2022-10-11",
              {"outcome": "dismissed", "handling_opinion": "不成立", "vice_mayor_decision_ref": "VMD-1"},
              "ObjectionResolutionBody", platform_id=pid, objection_id=objected.objection_id))
    assert _ok(r.act("bureau", "establishment", "issue_notice", "2022-10-11",
                     {"document_ref": "长科发〔2022〕50号"}, "NoticeBody", platform_id=pid)).status == "notified"
    signed = _ok(r.act("bureau", "establishment", "sign_task_book", "2022-11-01",
                       {"task_book_ref": "TB-2022-001", "indicators": [{"name": "服务企业数", "target": "≥200"}],
                        "period_start": "2022-11-01"}, "TaskBookBody", platform_id=pid))
    assert signed.task_book.acceptance_due.isoformat() == "2023-11-30"
    _ok(r.act("applicant", "acceptance", "apply_for_acceptance", "2023-11-20", {"summary": "完成"},
              "AcceptanceApplicationBody", platform_id=pid))
    reviewed = _ok(r.act("service_agency", "acceptance", "review_acceptance", "2023-12-01",
                         {"panel": ["expert1", "expert2"], "funds_use_compliant": True, "conclusion": "qualified",
                          "indicator_results": [{"name": "服务企业数", "achieved": True}]},
                         "AcceptanceReviewBody", platform_id=pid))
    assert reviewed.status == "qualified"
    _ok(r.act("bureau", "acceptance", "recognize_platform", "2023-12-05",
              {"document_ref": "长科发〔2023〕90号", "plaque_no": "CSAI-01"}, "RecognitionBody", platform_id=pid))
    funded = _ok(r.act("finance", "funding", "fund_platform", "2023-12-10",
                       {"joint_document_ref": "长财教〔2023〕9号", "amount": "1000000.00"}, "FundingBody",
                       platform_id=pid))
    assert funded.funding.disbursed == "1000000.00"
    _ok(r.act("bureau", "revocation", "revoke_recognition", "2024-02-01",
              {"ground": "serious_adverse_impact", "document_ref": "长科发〔2024〕3号", "reasons": "事故"},
              "RevocationBody", platform_id=pid))
    recovered = _ok(r.act("finance", "funding", "recover_funding", "2024-02-20",
                          {"amount": "1000000.00", "document_ref": "长财教〔2024〕2号", "reasons": "全额追回"},
                          "RecoveryBody", platform_id=pid))
    position = recovered.position

    # The queries, through the same client, reading the round's own writes.
    platform = _ok(r.op("registry", "get_platform").sync_detailed(
        pid, client=r.sign_in("auditor"), min_position=position))
    assert platform.status == "revoked" and platform.funding.recovered == "1000000.00"
    ledger = _ok(r.op("funding", "get_funding_ledger").sync_detailed(client=r.sign_in("finance"),
                                                                       min_position=position))
    assert ledger.totals.disbursed == "1000000.00" and ledger.totals.recovered == "1000000.00"
    subfields = _ok(r.op("registry", "list_subfields").sync_detailed(client=r.public, min_position=position))
    assert next(s for s in subfields.items if s.name == "智能算力").holder is None  # revocation frees it
    history = _ok(r.op("registry", "get_platform_history").sync_detailed(pid, client=r.sign_in("auditor")))
    assert [e.sequence for e in history.items] == list(range(1, len(history.items) + 1))
