"""Importing a past programme from its archive (docs/IMPORT.md), on both stores: the example
archive of docs/ imported gives the same publicity list, subfield registry and funding ledger as
the same programme driven live through the API; whole or nothing (a dry run lists every refusal
with its line, code and article; a broken line anywhere, or a store that disagrees, records
nothing); a re-run records nothing twice and an interrupted run resumes; only the bureau
imports; the deadline watch records no miss while an import is open; the command line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from unittest.mock import patch
from uuid import UUID

import pytest
from typer.testing import CliRunner

from aggregates.application import RegistryApp
from aggregates.clock import today_in_shanghai
from aggregates.programme import Driver
from aggregates.store import StoreConfig
from aggregates.values import Act, Role
from api.archive_import import ArchiveRefused, abandon_archive, import_archive
from api.cli import app as cli_app
from api_client import PASSWORD, Api, make_api
from projections.db import make_engine
from projections.deadline_watch import DeadlineWatch
from projections.runner import ReadModelRunner
from support import drop_schema, fresh_schema

ARCHIVE = Path(__file__).resolve().parents[1] / "docs" / "archive-example.jsonl"
NDJSON = {"Content-Type": "application/x-ndjson"}


def _lines() -> list[dict[str, Any]]:
    return [json.loads(x) for x in ARCHIVE.read_text(encoding="utf-8").splitlines() if x.strip()]


def _archive(lines: list[dict[str, Any]] | list[str]) -> bytes:
    return "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines).encode() + b"\n"


def _clerk(actor: str = "clerk-wang") -> Act:
    today = today_in_shanghai()
    return Act(actor, Role.BUREAU, today, recorded_on=today)


def _positions(app: RegistryApp) -> int:
    return app.recorder.max_notification_id() or 0


# ---------------------------------------------------------------------------- the live run
# The routes of docs/API.md each act of the archive stands for, and the body fields its
# documents fill (in order): the live run is driven from the archive by these, not by the importer.
ROUTES = {"admit_subfield": "/subfields", "apply": "/platforms", "intake": "/platforms/{pid}/intake",
          "score_sheets": "/platforms/{pid}/score-sheets", "inspection": "/platforms/{pid}/inspection",
          "approval": "/platforms/{pid}/approval", "publicity": "/publicity-batches",
          "objection": "/platforms/{pid}/objections",
          "objection_resolution": "/platforms/{pid}/objections/{ref}/resolution",
          "notice": "/platforms/{pid}/notice", "task_book": "/platforms/{pid}/task-book",
          "acceptance_application": "/platforms/{pid}/acceptance-application",
          "acceptance_review": "/platforms/{pid}/acceptance-review", "recognition": "/platforms/{pid}/recognition",
          "funding": "/platforms/{pid}/funding"}
DOCUMENT_FIELDS = {"score_sheets": ["meeting_ref"], "publicity": ["batch_ref"],
                   "approval": ["party_group_meeting_ref", "vice_mayor_approval_ref", "funding_plan_ref"],
                   "objection_resolution": ["vice_mayor_decision_ref"], "task_book": ["task_book_ref"],
                   "funding": ["joint_document_ref"], "objection": []}


def drive_live(api: Api, lines: list[dict[str, Any]]) -> dict[str, str]:
    """The archive's programme as its clerks would have keyed it in, act by act, through the API:
    the bureau records the paper applications and the posted objection on behalf, the service
    agency the meeting's score sheets; host units apply for acceptance on the day. Returns the
    archive's platform keys → the ids the API gave."""
    users = api.container.users
    ids: dict[str, str] = {}
    refs: dict[str, str] = {}
    for ln in lines:
        actor, role = ln["actor"]["id"], ln["actor"]["role"]
        if role in ("bureau", "service_agency", "finance") and users.get(actor) is None:
            users.add(actor, role, PASSWORD, None)
        body = {**ln["data"], "business_date": ln["business_date"],
                **dict(zip(DOCUMENT_FIELDS.get(ln["act"], ["document_ref"]), ln["documents"], strict=False))}
        user = actor
        if ln["act"] in ("apply", "objection"):
            user = "bureau"  # recorded on behalf
        if ln["act"] == "publicity":
            body["platform_ids"] = [ids[k] for k in body.pop("platforms")]
        path = ROUTES[ln["act"]].format(pid=ids.get(ln.get("platform", ""), ""), ref=refs.get(ln.get("ref", ""), ""))
        if role == "applicant" and ln["act"] != "apply":
            user = f"applicant-{actor}"
            if users.get(user) is None:
                users.add(user, "applicant", PASSWORD, actor)
            on = date.fromisoformat(ln["business_date"])
            with patch("api.commands_support.today_in_shanghai", lambda on=on: on):
                r = _post(api, path, user, body)
        else:
            r = _post(api, path, user, body)
        assert r.status_code in (200, 201), (ln, r.text)
        if ln["act"] == "apply":
            ids[ln["platform"]] = r.json()["id"]
        if ln["act"] == "objection":
            refs[ln["ref"]] = r.json()["objection_id"]
    return ids


def _post(api: Api, path: str, user: str, body: dict[str, Any]) -> Any:
    return api._remember(api.client.post(f"/api/v1{path}", json=body, headers=api.headers(user)))


def read_models(api: Api, ids: dict[str, str]) -> dict[str, Any]:
    """The publicity list, the subfield registry and the funding ledger, with the generated ids
    named by the archive's keys (and the batches by their references)."""
    views = {"publicity": api.get("/publicity-list", None, limit=200).json(),
             "subfields": api.get("/subfields", None).json(),
             "ledger": api.get("/funding-ledger", "auditor").json()}
    text = json.dumps(views, ensure_ascii=False, sort_keys=True)
    for key, pid in ids.items():
        text = text.replace(pid, key)
    views = json.loads(text)
    for view in views.values():
        # Log positions differ: the import writes an idempotency record beside each act.
        _drop(view, {"position", "entry_id", "batch_id", "recorded_at", "as_of_position"})
    return views


def _drop(value: Any, keys: set[str]) -> None:
    if isinstance(value, dict):
        for k in keys & value.keys():
            del value[k]
        for v in value.values():
            _drop(v, keys)
    elif isinstance(value, list):
        for v in value:
            _drop(v, keys)


@pytest.fixture
def live_api(store_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Api]:
    """A second API on a second, empty store of the same kind, for the live run."""
    schema = None
    if store_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    else:
        base = request.getfixturevalue("postgres_url")
        url, schema = fresh_schema(base)
    a, container = make_api(url, tmp_path / "live")
    try:
        with a.client:
            yield a
    finally:
        container.close()
        if schema is not None:
            drop_schema(request.getfixturevalue("postgres_url"), schema)


# ---------------------------------------------------------------------------- the tests
def test_example_archive_imported_equals_the_programme_driven_live(api: Api, live_api: Api) -> None:
    r = api.client.post("/api/v1/imports", content=ARCHIVE.read_bytes(), headers=api.headers("bureau", **NDJSON))
    assert r.status_code == 201, r.text
    summary = r.json()
    assert summary["outcome"] == "imported"
    assert (summary["platforms"], summary["batches"], summary["refusals"]) == (5, 1, [])
    assert summary["recorded"] == len(_lines()) and summary["events"] > summary["recorded"]
    api.last_position = summary["position"]
    imported = read_models(api, summary["platform_ids"])

    live = read_models(live_api, drive_live(live_api, _lines()))
    assert imported == live
    # The round as the archive tells it: two funded, the unqualified one's commitment released.
    ledger = json.dumps(imported["ledger"], ensure_ascii=False)
    assert "P1" in ledger and "P2" in ledger and "P3" in ledger
    statuses = {k: api.get(f"/platforms/{pid}", "bureau").json()["status"]
                for k, pid in summary["platform_ids"].items()}
    assert statuses == {"P1": "funded", "P2": "funded", "P3": "terminated", "P4": "rejected", "P5": "not_accepted"}
    p2 = api.get(f"/platforms/{summary['platform_ids']['P2']}", "bureau").json()
    assert p2["publicity"]["end_date"] == "2022-10-10"  # five working days across National Day 2022
    assert [o["received_on"] for o in p2["objections"]] == ["2022-10-08"]  # a make-up working day


def test_imported_history_names_who_acted_and_the_importing_clerk(registry: RegistryApp) -> None:
    summary = import_archive(registry, ARCHIVE.read_bytes(), _clerk())
    p1 = summary.platform_ids["P1"]
    acts = {type(e).__name__: e.act for e in registry.stream(UUID(p1))}
    assert acts["Applied"].role is Role.APPLICANT and acts["Applied"].recorded_by.actor_id == "clerk-wang"
    assert acts["Applied"].business_date == date(2022, 3, 1)
    assert acts["Funded"].actor_id == "finance-1" and acts["Funded"].recorded_by is None
    record = registry.archive_import(summary.archive_sha256)
    assert record is not None and record["clerk"] == "clerk-wang" and record["completed_on"] == today_in_shanghai()
    assert record["platforms"] == summary.platform_ids and record["acts"] == len(_lines())


def test_dry_run_lists_every_refusal_with_line_code_and_article(api: Api) -> None:
    lines: list[Any] = _lines()
    bad_date = dict(lines[2], business_date="2022-02-30")
    unknown = dict(lines[5], act="award")
    nul = json.loads(json.dumps(lines[6]))
    nul["data"]["reasons"] = "材料\u0000齐全"
    broken = [*lines[:2], bad_date, *lines[3:5], unknown, nul, *lines[7:], "{not json"]
    # A rule: P4 failed its inspection, so it cannot be approved (its line goes after the approvals).
    approval_p4 = dict(next(x for x in lines if x["act"] == "approval"), platform="P4")
    broken.insert(broken.index(next(x for x in lines if x["act"] == "publicity")), approval_p4)
    before = _positions(api.container.app)

    r = api.client.post("/api/v1/imports?dry_run=true", content=_archive(broken),
                        headers=api.headers("bureau", **NDJSON))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "archive_refused"
    found = {(x["line"], x["code"]) for x in problem["refusals"]}
    assert {(3, "invalid_input"), (6, "unknown_act"), (7, "invalid_input"), (len(broken), "malformed_json")} <= found
    # The edge refusals are all listed at once, before any act is run.
    assert len(problem["refusals"]) == 4
    assert any("data.reasons" == x.get("field") for x in problem["refusals"])
    assert _positions(api.container.app) == before

    # With the edge clean, every rule refusal of the acts is listed, each with its article.
    clean = [x for x in broken if isinstance(x, dict) and x is not bad_date and x is not unknown and x is not nul]
    r = api.client.post("/api/v1/imports?dry_run=true", content=_archive(clean),
                        headers=api.headers("bureau", **NDJSON))
    assert r.status_code == 422, r.text
    refusals = r.json()["refusals"]
    approval_line = clean.index(approval_p4) + 1
    assert {(x["line"], x["code"]) for x in refusals} >= {(approval_line, "wrong_stage")}
    assert all("article" in x for x in refusals if x["code"] == "wrong_stage")
    assert _positions(api.container.app) == before


@pytest.mark.parametrize("break_at", ["bad_date", "unknown_act", "nul", "rule", "objector_as_actor"])
def test_a_broken_line_in_the_middle_records_nothing(registry: RegistryApp, break_at: str) -> None:
    lines = _lines()
    middle = len(lines) // 2
    broken = json.loads(json.dumps(lines[middle]))
    if break_at == "bad_date":
        broken["business_date"] = "2022-13-01"
    elif break_at == "unknown_act":
        broken["act"] = "award"
    elif break_at == "nul":
        broken["documents"] = ["考察\u0000〔2022〕号"]
    elif break_at == "objector_as_actor":
        broken = json.loads(json.dumps(next(x for x in lines if x["act"] == "objection")))
        broken["actor"]["id"] = broken["data"]["objector_name"]  # a person's name as the actor in the log
        lines = [x for x in lines if x["act"] != "objection_resolution"]
        middle = lines.index(next(x for x in lines if x["act"] == "objection"))
    else:
        broken = lines[-1]  # P2's grant in the middle of the round, before its recognition (Art. 9(3))
    archive = _archive([*lines[:middle], broken, *lines[middle:]] if break_at == "rule" else
                       [*lines[:middle], broken, *lines[middle + 1:]])
    with pytest.raises(ArchiveRefused) as refused:
        import_archive(registry, archive, _clerk())
    assert refused.value.summary.outcome == "refused"
    assert [(r.line, r.code) for r in refused.value.summary.refusals] == [(middle + 1, {
        "bad_date": "invalid_input", "unknown_act": "unknown_act", "nul": "invalid_input", "rule": "wrong_stage",
        "objector_as_actor": "public_actor"}[break_at])]
    assert _positions(registry) == 0


def test_a_rerun_records_nothing_twice(api: Api) -> None:
    first = api.client.post("/api/v1/imports", content=ARCHIVE.read_bytes(), headers=api.headers("bureau", **NDJSON))
    assert first.status_code == 201, first.text
    after = _positions(api.container.app)
    again = api.client.post("/api/v1/imports", content=ARCHIVE.read_bytes(), headers=api.headers("bureau", **NDJSON))
    assert again.status_code == 200, again.text
    assert again.json()["outcome"] == "already_imported" and again.json()["recorded"] == 0
    assert again.json()["platform_ids"] == first.json()["platform_ids"]
    assert _positions(api.container.app) == after


def test_an_interrupted_import_resumes_without_duplicates(registry: RegistryApp) -> None:
    content = ARCHIVE.read_bytes()
    total = len(_lines())
    steps = 0

    def stop_midway(n: int) -> None:
        nonlocal steps
        steps += n
        if steps == total + 20:  # validated, then 20 acts recorded
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_archive(registry, content, _clerk(), progress=stop_midway)
    assert registry.imports_running() != []
    with pytest.raises(Exception, match="same clerk resumes it"):
        import_archive(registry, content, _clerk("clerk-li"))

    summary = import_archive(registry, content, _clerk())
    assert (summary.outcome, summary.already_recorded, summary.recorded) == ("resumed", 20, total - 20)
    assert registry.imports_running() == []
    p1 = registry.get_platform(UUID(summary.platform_ids["P1"]))
    assert p1.status == "funded"
    # Exactly the events of one import: a clean import elsewhere writes as many.
    clean = RegistryApp(StoreConfig("memory:"))
    try:
        import_archive(clean, content, _clerk())
        assert _positions(registry) == _positions(clean)
    finally:
        clean.close()


def test_art5_a_store_that_holds_the_subfield_refuses_the_archive_before_writing(registry: RegistryApp) -> None:
    Driver(registry, subfield="智能芯片").to("approved")
    before = _positions(registry)
    with pytest.raises(ArchiveRefused) as refused:
        import_archive(registry, ARCHIVE.read_bytes(), _clerk())
    refusal, *then = refused.value.summary.refusals
    assert (refusal.code, refusal.article, refusal.act) == ("subfield_taken", "Art. 5", "approval")
    assert refusal.line == 1 + next(i for i, x in enumerate(_lines()) if x["act"] == "approval")
    assert then  # and every later act that depended on it (the batch, P1's notice...), each on its line
    assert _positions(registry) == before


def test_imports_are_the_bureau_s(api: Api) -> None:
    for user in ("service_agency", "finance", "applicant", "auditor", "expert1"):
        r = api.client.post("/api/v1/imports", content=ARCHIVE.read_bytes(), headers=api.headers(user, **NDJSON))
        assert r.status_code == 403, (user, r.text)
    assert api.client.post("/api/v1/imports", content=ARCHIVE.read_bytes(), headers=NDJSON).status_code == 401
    r = api.client.post("/api/v1/imports", content=ARCHIVE.read_bytes(),
                        headers=api.headers("bureau", **{"Content-Type": "application/pdf"}))
    assert r.status_code == 415
    assert _positions(api.container.app) == 0


def _interrupt_before_the_acceptance_applications(registry: RegistryApp) -> None:
    """Import the example archive, stopped (as by Ctrl-C) just before its first acceptance
    application is recorded: the import stays open, the task books' deadlines pass meanwhile."""
    lines = _lines()
    before_acceptance = next(i for i, x in enumerate(lines) if x["act"] == "acceptance_application")
    steps = 0

    def stop_before_acceptance(n: int) -> None:
        nonlocal steps
        steps += n
        if steps == len(lines) + before_acceptance:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_archive(registry, ARCHIVE.read_bytes(), _clerk(), progress=stop_before_acceptance)


def test_art9_1_deadline_watch_records_no_miss_while_an_import_is_open(registry: RegistryApp) -> None:
    _interrupt_before_the_acceptance_applications(registry)
    engine = make_engine(registry.store)
    runner = ReadModelRunner(registry, engine)
    try:
        runner.catch_up()
        watch = DeadlineWatch(registry, engine, today=lambda: date(2026, 11, 30))
        assert watch.tick() == []  # three platforms past their 2023-11-30 deadline, the import open
        summary = import_archive(registry, ARCHIVE.read_bytes(), _clerk())
        assert summary.outcome == "resumed"
        runner.catch_up()
        assert watch.tick() == []  # each applied for acceptance in time
        for pid in summary.platform_ids.values():
            assert not [e for e in registry.stream(UUID(pid))
                        if type(e).__name__ == "AcceptanceDeadlineMissed"]
    finally:
        engine.dispose()


def test_cli_import_shows_the_summary_and_fails_on_refusal(cli_env: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli_app, ["import", str(ARCHIVE), "--clerk", "clerk-wang", "--dry-run"])
    assert r.exit_code == 2 and "not an enabled bureau account" in r.output
    r = runner.invoke(cli_app, ["users", "add", "clerk-wang", "--role", "bureau", "--password-stdin"],
                      input="long-password-of-the-clerk\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["import", str(ARCHIVE), "--clerk", "clerk-wang", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "valid (dry run)" in r.output and "5 platforms" in r.output
    r = runner.invoke(cli_app, ["import", str(ARCHIVE), "--clerk", "clerk-wang"])
    assert r.exit_code == 0, r.output
    assert re.search(r"5 platforms, 1 publicity batches, \d+ events, \d+ acts recorded now", r.output)
    r = runner.invoke(cli_app, ["import", str(ARCHIVE), "--clerk", "clerk-wang"])
    assert r.exit_code == 0 and "already imported" in r.output
    broken = cli_env / "broken.jsonl"
    lines: list[Any] = _lines()
    broken.write_bytes(_archive([*lines[:3], dict(lines[3], act="award"), *lines[4:]]))
    r = runner.invoke(cli_app, ["import", str(broken), "--clerk", "clerk-wang"])
    assert r.exit_code == 1
    assert "unknown_act" in r.output and "refused: nothing recorded" in r.output


def test_the_line_is_held_to_the_live_command(memory_registry: RegistryApp) -> None:
    lines = _lines()
    funding = next(x for x in lines if x["act"] == "funding")
    intake = next(x for x in lines if x["act"] == "intake")
    odd = [dict(funding, actor={"id": "bureau-1", "role": "bureau"}),  # the grant is finance's act
           dict(intake, data={**intake["data"], "business_date": "2022-03-10"}),  # the line's, not data's
           dict(intake, documents=["受理〔2022〕1号", "受理〔2022〕2号"]),  # intake backs itself by one
           dict(intake, data={**intake["data"], "decided_by": "张三"})]  # strict bodies, as live
    with pytest.raises(ArchiveRefused) as refused:
        import_archive(memory_registry, _archive([*lines, *odd]), _clerk(), dry_run=True)
    assert [(r.line, r.code, r.field) for r in refused.value.summary.refusals] == [
        (len(lines) + 1, "role_not_allowed", "actor.role"), (len(lines) + 2, "field_of_the_line", "data.business_date"),
        (len(lines) + 3, "too_many_documents", "documents"), (len(lines) + 4, "invalid_input", "data.decided_by")]
    # A byte order mark (a file saved by a spreadsheet) is not a refusal; a dry run records nothing.
    summary = import_archive(memory_registry, b"\xef\xbb\xbf" + ARCHIVE.read_bytes(), _clerk(), dry_run=True)
    assert (summary.outcome, summary.platforms, summary.refusals) == ("valid", 5, [])
    assert _positions(memory_registry) == 0


def test_art9_1_an_abandoned_import_no_longer_holds_the_deadline_watch(registry: RegistryApp) -> None:
    _interrupt_before_the_acceptance_applications(registry)
    with pytest.raises(Exception, match="archive_import_not_running|no import"):
        abandon_archive(registry, b"another archive", _clerk(), "误导入")
    abandon_archive(registry, ARCHIVE.read_bytes(), _clerk(), "档案缺失验收材料，无法续导")
    assert registry.imports_running() == []
    with pytest.raises(Exception, match="abandoned"):
        import_archive(registry, ARCHIVE.read_bytes(), _clerk())
    engine = make_engine(registry.store)
    try:
        ReadModelRunner(registry, engine).catch_up()
        recorded = DeadlineWatch(registry, engine, today=lambda: date(2026, 11, 30)).tick()
        assert len(recorded) == 3  # P1-P3 under construction, their 2023-11-30 deadline passed
    finally:
        engine.dispose()


def test_cli_abandon_is_refused_without_an_open_import(cli_env: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli_app, ["users", "add", "clerk-wang", "--role", "bureau", "--password-stdin"],
                      input="long-password-of-the-clerk\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["import", str(ARCHIVE), "--clerk", "clerk-wang", "--abandon", "误\u202e导入"])
    assert r.exit_code == 2  # the reasons go into the log: held to the edge rules
    r = runner.invoke(cli_app, ["import", str(ARCHIVE), "--clerk", "clerk-wang", "--abandon", "误导入"])
    assert r.exit_code == 1 and "archive_import_not_running" in r.output


def test_art5_a_seat_taken_between_the_phases_interrupts_and_the_import_resumes_once_freed(
        registry: RegistryApp) -> None:
    content = ARCHIVE.read_bytes()
    total = len(_lines())
    rival: list[Driver] = []
    steps = 0

    def live_approval_meanwhile(n: int) -> None:
        nonlocal steps
        steps += n
        if steps == total:  # validated against the store as it stood; now a live approval lands
            rival.append(Driver(registry, subfield="智能算力").to("approved"))

    with pytest.raises(ArchiveRefused) as stopped:
        import_archive(registry, content, _clerk(), progress=live_approval_meanwhile)
    summary = stopped.value.summary
    assert summary.outcome == "interrupted" and summary.recorded > 0
    [refusal] = summary.refusals
    assert (refusal.code, refusal.article, refusal.act) == ("subfield_taken", "Art. 5", "approval")
    assert registry.imports_running() == [summary.archive_sha256]  # open: the watch waits

    rival[0].programme.withdraw(rival[0].pid, on=today_in_shanghai())  # the seat is freed
    resumed = import_archive(registry, content, _clerk())
    assert (resumed.outcome, resumed.already_recorded, resumed.recorded) == (
        "resumed", summary.recorded, total - summary.recorded)
    assert registry.get_platform(UUID(resumed.platform_ids["P3"])).status == "terminated"
