"""The event store as the permanent record: pinned topics, attributed and chained events,
business-date rules, snapshots, atomic multi-aggregate writes, retries and idempotency, on
SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import threading
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from freezegun import freeze_time

from aggregates.application import Idempotency, RegistryApp
from aggregates.clock import today_in_shanghai
from aggregates.errors import IdempotencyKeyReused, InvalidInput, RuleViolation
from aggregates.hashing import GENESIS, event_hash, stored_event_hash
from aggregates.programme import Driver, act, application
from aggregates.recorded import RecordedAggregate
from aggregates.store import StoreConfig
from aggregates.values import ChangeKind, Role

PINNED_TOPICS = {
    "platform-registry/Platform/Applied", "platform-registry/Platform/Accepted",
    "platform-registry/Platform/Scored", "platform-registry/Platform/ReviewCompleted",
    "platform-registry/Platform/Inspected", "platform-registry/Platform/Approved",
    "platform-registry/Platform/Publicized", "platform-registry/Platform/NoticeIssued",
    "platform-registry/Platform/TaskBookSigned", "platform-registry/Platform/AcceptanceApplied",
    "platform-registry/Platform/AcceptanceReviewed", "platform-registry/Platform/AcceptedAsQualified",
    "platform-registry/Platform/Recognized", "platform-registry/Platform/Funded",
    "platform-registry/SubfieldSeat/Opened", "platform-registry/SubfieldSeat/Occupied",
    "platform-registry/PublicityBatch/Published",
}


def all_notifications(app):
    return list(app.recorder.select_notifications(1, 100_000))


def test_stored_topics_are_pinned_strings_not_module_paths(registry):
    Driver(registry).to("funded")
    topics = {n.topic for n in all_notifications(registry)}
    assert topics == PINNED_TOPICS


def test_every_event_chains_to_its_predecessor_after_a_round_trip(registry):
    Driver(registry).to("funded")
    tips: dict = {}
    for n in all_notifications(registry):
        event = registry.mapper.to_domain_event(n)
        assert event.prev_hash == tips.get(event.originator_id, GENESIS)
        tips[event.originator_id] = stored_event_hash(n.topic, n.originator_id, n.originator_version, n.state)
        # the writer's hash of the event object equals the auditor's hash of the stored bytes
        assert event_hash(n.topic, event.__dict__) == tips[event.originator_id]
        assert event.act.business_date is not None and event.timestamp.tzinfo is not None


def test_business_date_is_the_shanghai_date_not_the_utc_date(memory_registry):
    with freeze_time("2022-03-01T15:59:59Z"):  # 23:59:59 on 1 March in Asia/Shanghai
        with pytest.raises(InvalidInput) as err:
            act(Role.APPLICANT, "2022-03-02", recorded_on=today_in_shanghai())
        assert (err.value.code, err.value.field) == ("business_date_in_future", "business_date")
    with freeze_time("2022-03-01T16:00:00Z"):  # UTC still says 1 March; Shanghai is on 2 March
        memory_registry.apply(act(Role.APPLICANT, "2022-03-02", recorded_on=today_in_shanghai()), **application())


def test_business_dates_never_run_backwards_within_a_platform(memory_registry):
    drv = Driver(memory_registry).to("accepted")
    with pytest.raises(RuleViolation) as err:
        memory_registry.withdraw(drv.pid, act(Role.APPLICANT, "2022-03-09"), reasons="早于受理")
    assert err.value.code == "business_date_before_previous"
    memory_registry.withdraw(drv.pid, act(Role.APPLICANT, "2022-03-10"), reasons="同日撤回")


def test_long_histories_load_from_snapshots_with_identical_state(registry):
    drv = Driver(registry).to("under_construction")
    for i in range(60):
        registry.report_change(drv.pid, act(Role.APPLICANT, "2023-01-06"), kind=ChangeKind.PRINCIPAL,
                               description=f"第{i}次", new_value=f"负责人{i}")
        registry.decide_change(drv.pid, str(i + 1), act(Role.BUREAU, "2023-01-06"), approved=True, reasons="同意")
    platform = registry.get_platform(drv.pid)
    assert platform.version > 100
    assert registry.snapshots is not None
    assert list(registry.snapshots.get(drv.pid)), "a snapshot was taken"
    events = list(registry.events.get(drv.pid))
    replayed, at_version = None, {}
    for event in events:
        replayed = event.mutate(replayed)
        at_version[replayed.version] = copy.deepcopy(hashed_state(replayed))
    assert hashed_state(replayed) == hashed_state(platform)
    assert platform.principal == "负责人59"
    # Each snapshot (taken from the command's own aggregate) is the replayed state at its
    # version, its chain head the next event's prev_hash, and a load from the store (latest
    # snapshot + later events) is the whole replay.
    snapshots = list(registry.snapshots.get(drv.pid))
    assert [s.originator_version for s in snapshots] == [v for v in sorted(at_version) if v % 50 == 0]
    for snapshot in snapshots:
        assert snapshot.topic == "platform-registry/Platform"
        assert hashed_state(snapshot.mutate(None)) == at_version[snapshot.originator_version]
        assert snapshot.state["last_hash"] == events[snapshot.originator_version].prev_hash
    assert hashed_state(registry.repository.get(drv.pid, version=platform.version)) == hashed_state(platform)


def test_a_snapshot_stored_by_an_earlier_release_still_loads_and_the_chain_goes_on(registry, store_url):
    """Snapshots written before the chain's head was hashed lazily are the library's own class,
    holding the head as ``last_hash``: a later command on a platform loaded from one still
    chains its events to the stored ones."""
    drv = Driver(registry).to("under_construction")
    platform = registry.get_platform(drv.pid)
    assert platform.last_hash == chain_tips(registry)[drv.pid]
    registry.snapshots.put([Aggregate.Snapshot.take(platform)])
    later = RegistryApp(StoreConfig(store_url))  # nothing cached: loads from that snapshot
    try:
        [stored] = later.snapshots.get(drv.pid)
        assert type(stored) is Aggregate.Snapshot and stored.originator_version == platform.version
        later.report_change(drv.pid, act(Role.APPLICANT, "2023-01-06"), kind=ChangeKind.PRINCIPAL,
                            description="换人", new_value="新负责人")
        chain_tips(later)  # every stored event names its predecessor's hash
    finally:
        later.close()


def chain_tips(app: RegistryApp) -> dict[Any, str]:
    """The hash of each stream's last stored event, asserting on the way that every event names
    its predecessor's."""
    tips: dict[Any, str] = {}
    for n in all_notifications(app):
        event = app.mapper.to_domain_event(n)
        assert event.prev_hash == tips.get(event.originator_id, GENESIS)
        tips[event.originator_id] = stored_event_hash(n.topic, n.originator_id, n.originator_version, n.state)
    return tips


def hashed_state(aggregate: RecordedAggregate) -> dict[str, Any]:
    """An aggregate's state with its chain's head hashed, as a snapshot keeps it (a replay
    hashes the head only when asked for it)."""
    head = aggregate.last_hash
    return {**aggregate.__dict__, "last_hash": head}


def test_a_refused_command_writes_nothing(registry):
    Driver(registry).to("approved")
    loser = Driver(registry).to("inspected")
    before = registry.recorder.max_notification_id()
    with pytest.raises(RuleViolation):
        loser.to("approved")
    assert registry.recorder.max_notification_id() == before
    assert loser.platform.status == "inspected" and loser.platform.version == 9


def test_a_cached_platform_is_handed_out_as_an_independent_copy(registry):
    """A command changes its own copy: whatever it does to nested records (objections, scores,
    the host unit), the cached platform and the next command's copy are untouched."""
    d = Driver(registry).to("reviewed")
    first = registry.get_platform(d.pid)
    first.host_unit["name"] = "changed"
    first.scores.clear()
    first.stage_dates["applied"] = None
    first._pending_events.append("stray")
    again = registry.get_platform(d.pid)
    assert again.host_unit["name"] != "changed" and again.scores and again.stage_dates["applied"] is not None
    assert again._pending_events == [] and again.__dict__ == registry.repository.get(d.pid).__dict__
    assert again.last_hash == first.last_hash and type(again) is type(first)


def test_art8_6_resolving_an_objection_in_a_copy_leaves_the_cached_platform_alone(registry):
    """Copies share the objection records (there can be many): a command's copy that resolves one
    and is then refused or abandoned must not have changed the record the next command reads."""
    d = Driver(registry).to("in_publicity")
    registry.object(d.pid, act(Role.BUREAU, "2022-09-30"), objector_name="市民", contact="x", content="异议")
    copy_ = registry.get_platform(d.pid)
    copy_.resolve_objection("1", False, "不成立", "副市长批示〔2022〕1号", act(Role.BUREAU, "2022-10-08"))
    assert copy_.objections["1"]["outcome"] == "dismissed"
    again = registry.get_platform(d.pid)
    assert again.objections["1"]["outcome"] is None and again.version == copy_.version - 1
    assert again.objections == registry.repository.get(d.pid, version=again.version).objections


def test_each_writer_sees_the_others_objections(registry, store_url):
    """Two writers on one store (another process, a CLI): each keeps the platform it saved in
    its cache, and still numbers its next objection after the other's, with the state a replay
    from the store gives."""
    from aggregates.application import RegistryApp
    from aggregates.store import StoreConfig

    d = Driver(registry).to("in_publicity")
    other = RegistryApp(StoreConfig(store_url))
    try:
        on = act(Role.BUREAU, "2024-03-01")
        ids = [app.object(d.pid, on, objector_name="市民", contact="x", content=f"第{i}条").extra["objection_id"]
               for i, app in enumerate([registry, other, registry, other, registry])]
        assert ids == ["1", "2", "3", "4", "5"]
        for app in (registry, other):
            cached = app.get_platform(d.pid)
            replayed = app.repository.get(d.pid, version=cached.version)
            assert cached.version == replayed.version and cached.objections == replayed.objections
            assert cached.last_hash == replayed.last_hash
    finally:
        other.close()


def test_art9_concurrent_fundings_pay_exactly_once(registry):
    drv = Driver(registry).to("recognized")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def fund() -> None:
        barrier.wait()
        try:
            registry.fund(drv.pid, act(Role.FINANCE, "2023-12-20", "长财教〔2023〕99号"))
            outcomes.append("funded")
        except RuleViolation as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=fund) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("funded") == 1, outcomes
    funded = [n for n in all_notifications(registry) if n.topic.endswith("/Funded")]
    assert len(funded) == 1
    assert registry.get_platform(drv.pid).disbursed == Decimal("1000000.00")


def test_art8_3_concurrent_experts_are_retried_not_lost(registry):
    drv = Driver(registry).to("accepted")
    policy = registry.policy_of(drv.platform)
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def score(i: int) -> None:
        barrier.wait()
        try:
            registry.score(drv.pid, {c.criterion: c.max_points for c in policy.rubric}, "", None,
                           act(Role.EXPERT, "2022-04-01", who=f"concurrent-{i}"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=score, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(drv.platform.scores) == [f"concurrent-{i}" for i in range(4)]


def test_idempotency_key_acts_once_and_refuses_a_different_request(registry):
    body = application()
    key = Idempotency("key-1", "fingerprint-a")
    first = registry.apply(act(Role.APPLICANT, "2022-03-01"), idempotency=key, **body)
    again = registry.apply(act(Role.APPLICANT, "2022-03-01"), idempotency=key, **body)
    assert (again.aggregate_id, again.version, again.position) == (first.aggregate_id, first.version, first.position)
    assert again.replayed and not first.replayed
    applied = [n for n in all_notifications(registry) if n.topic.endswith("/Applied")]
    assert len(applied) == 1
    with pytest.raises(IdempotencyKeyReused):
        registry.apply(act(Role.APPLICANT, "2022-03-01"), idempotency=Idempotency("key-1", "fingerprint-b"), **body)
    other_actor = registry.apply(act(Role.APPLICANT, "2022-03-01", who="another-applicant"), idempotency=key,
                                 **application())
    assert other_actor.aggregate_id != first.aggregate_id  # keys are scoped to their caller
