"""SQLite's one writer: queued commands are processed in arrival order, in groups that each
share one transaction (aggregates.group_commit), and a group never hides a rule."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from aggregates.application import Idempotency
from aggregates.errors import IdempotencyKeyReused, NotFound, RuleViolation
from aggregates.group_commit import GroupCommit, GroupCommitClosed, Job
from aggregates.programme import Driver, act
from aggregates.unit_of_work import Command, Decision
from aggregates.values import Role


def _wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


class Interrupted(BaseException):
    """Stands for KeyboardInterrupt or SystemExit in the thread leading a group."""


class Recorder:
    """A ``process`` that records its groups, can be held, and leaves jobs named "later…" open
    the first time it sees them."""

    def __init__(self) -> None:
        self.groups: list[list[object]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.inside = 0
        self.overlaps: list[int] = []
        self.deferred: set[object] = set()
        self.threads: list[str] = []

    def __call__(self, group: list[Job]) -> None:
        self.inside += 1
        try:
            self.overlaps.append(self.inside)
            self.gate.wait(5)
            self.groups.append([j.payload for j in group])
            self.threads.append(threading.current_thread().name)
            for j in group:
                if j.payload == "boom":
                    raise RuntimeError("disk full")
                if j.payload == "interrupt":
                    raise Interrupted()
                if isinstance(j.payload, str) and j.payload.startswith("refuse"):
                    j.fail(ValueError(f"refused {j.payload}"))  # this job's own answer
                    continue
                if isinstance(j.payload, str) and j.payload.startswith("later") and j.payload not in self.deferred:
                    self.deferred.add(j.payload)  # left open: must come first in the next group
                    continue
                j.finish(f"done {j.payload}")
        finally:
            self.inside -= 1


def _submit_held(commit: GroupCommit, process: Recorder, payloads: list[object]) -> tuple[list, dict]:
    """Submit the first payload and hold its group; queue the others one by one behind it, each
    queued before the next starts; then let the queue run. Returns the threads and results."""
    results: dict = {}
    process.gate.clear()
    threads = []
    for n, p in enumerate(payloads):
        def run(p: object = p) -> None:
            try:
                results[p] = commit.submit(p)
            except RuntimeError as exc:
                results[p] = f"error {exc}"
            except Interrupted:
                results[p] = "interrupted"
        t = threading.Thread(target=run)
        t.start()
        threads.append(t)
        if n == 0:
            _wait_until(lambda: process.inside == 1)  # the first leads, held at the gate
        else:
            _wait_until(lambda n=n: commit.waiting() == n)
    process.gate.set()
    for t in threads:
        t.join(5)
    return threads, results


def test_queued_commands_are_processed_in_arrival_order_in_groups() -> None:
    process = Recorder()
    commit = GroupCommit(process)
    _, results = _submit_held(commit, process, list(range(8)))
    assert process.groups == [[0], [1, 2, 3, 4, 5, 6, 7]]
    assert results == {n: f"done {n}" for n in range(8)} and commit.waiting() == 0
    assert max(process.overlaps) == 1  # one group at a time


def test_a_command_left_open_goes_first_in_the_next_group() -> None:
    process = Recorder()
    commit = GroupCommit(process)
    _, results = _submit_held(commit, process, ["first", 1, "later-a", 2])
    assert process.groups == [["first"], [1, "later-a", 2], ["later-a"]]
    assert results["later-a"] == "done later-a" and results[2] == "done 2"


def test_a_failing_group_fails_its_open_commands_and_the_queue_goes_on() -> None:
    process = Recorder()
    commit = GroupCommit(process)
    _, results = _submit_held(commit, process, ["first", 1, "boom", "never-run"])
    assert results == {"first": "done first", 1: "done 1", "boom": "error disk full",
                       "never-run": "error disk full"}
    assert commit.submit(9) == "done 9"  # the lead was handed back: the next command runs


def test_an_interrupted_leader_hands_on_the_lead_and_its_followers_get_an_error_of_their_own() -> None:
    process = Recorder()
    commit = GroupCommit(process)
    _, results = _submit_held(commit, process, ["first", "interrupt", 1, 2])
    assert results["first"] == "done first"
    # The lead passed to the first in line ("interrupt"), whose thread was interrupted; the others
    # learn that their command was not run, as an ordinary error, not as an interruption.
    assert results["interrupt"] == "interrupted"
    assert all(results[p].startswith("error the command was not run") for p in (1, 2))
    assert commit.submit(9) == "done 9" and commit.waiting() == 0


@pytest.fixture
def server_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a thread of its own, as a server's."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def _queue_mixed(commit: GroupCommit, process: Recorder, loop: asyncio.AbstractEventLoop,
                 items: list[tuple[str, object]], close_before_release: bool = False) -> dict:
    """Like :func:`_submit_held`, each payload submitted by a thread ("sync") or awaited in the
    event loop ("async"). Returns each payload's result, or the error it raised."""
    outcomes: dict = {}
    process.gate.clear()
    waits = []
    for n, (kind, p) in enumerate(items):
        if kind == "async":
            future = asyncio.run_coroutine_threadsafe(commit.submit_async(p), loop)
            waits.append((p, future.result))
        else:
            def run(p: object = p) -> None:
                try:
                    outcomes[p] = commit.submit(p)
                except Exception as exc:  # noqa: BLE001 - returned to the test
                    outcomes[p] = exc
            t = threading.Thread(target=run)
            t.start()
            waits.append((p, lambda timeout, t=t: t.join(timeout)))
        if n == 0:
            _wait_until(lambda: process.inside == 1)
        else:
            _wait_until(lambda n=n: commit.waiting() == n)
    if close_before_release:
        closing = threading.Thread(target=commit.close)
        closing.start()
        _wait_until(lambda: commit.closed)
    process.gate.set()
    for p, wait in waits:
        try:
            result = wait(5)
        except Exception as exc:  # noqa: BLE001 - returned to the test
            outcomes[p] = exc
        else:
            if result is not None:
                outcomes[p] = result
    if close_before_release:
        closing.join(5)
        assert not closing.is_alive()
    return outcomes


def test_jobs_of_threads_and_of_an_event_loop_keep_one_line_and_each_its_answer(server_loop) -> None:
    process = Recorder()
    commit = GroupCommit(process, name="mixed")
    items = [("sync", "first"), ("async", "a1"), ("sync", "s1"), ("async", "refuse-a"), ("sync", "refuse-s"),
             ("async", "later-a"), ("sync", "s2"), ("async", "a2")]
    outcomes = _queue_mixed(commit, process, server_loop, items)
    assert process.groups == [["first"], ["a1", "s1", "refuse-a", "refuse-s", "later-a", "s2", "a2"], ["later-a"]]
    assert max(process.overlaps) == 1  # one group at a time
    # The lead passed from the first thread to the writer, as a job of the event loop was next.
    assert process.threads[0] != "mixed-writer" and process.threads[1:] == ["mixed-writer", "mixed-writer"]
    for p in ("first", "a1", "s1", "later-a", "s2", "a2"):
        assert outcomes[p] == f"done {p}"
    for p in ("refuse-a", "refuse-s"):
        assert isinstance(outcomes[p], ValueError) and str(outcomes[p]) == f"refused {p}"
    assert commit.waiting() == 0
    # The writer let the lead lapse: a thread leads again, then the writer.
    assert commit.submit("s3") == "done s3"
    assert asyncio.run_coroutine_threadsafe(commit.submit_async("a3"), server_loop).result(5) == "done a3"
    commit.close()


@pytest.mark.parametrize("leader", ["sync", "async"])
def test_a_failing_group_fails_only_its_own_jobs_each_with_an_error_of_its_own(server_loop, leader) -> None:
    """The group after the first fails in ``process``: each of its jobs, whichever kind, gets its
    own copy of the error, caused by it; the jobs before and after it are answered."""
    process = Recorder()
    commit = GroupCommit(process, name="failing")
    other = "async" if leader == "sync" else "sync"
    items = [(leader, "first"), (leader, "ok"), (other, "boom"), (other, "x"), (leader, "y")]
    outcomes = _queue_mixed(commit, process, server_loop, items)
    assert process.groups == [["first"], ["ok", "boom", "x", "y"]]
    assert outcomes["first"] == "done first" and outcomes["ok"] == "done ok"
    errors = [outcomes[p] for p in ("boom", "x", "y")]
    assert all(isinstance(e, RuntimeError) and str(e) == "disk full" for e in errors)
    assert len({id(e) for e in errors}) == 3
    causes = {id(e.__cause__ or e) for e in errors}
    assert len(causes) == 1  # copies of the one error that failed the group
    assert commit.submit("after") == "done after"
    assert asyncio.run_coroutine_threadsafe(commit.submit_async("after-a"), server_loop).result(5) == "done after-a"
    commit.close()


@pytest.mark.parametrize("leader", ["sync", "async"])
def test_closing_finishes_the_group_being_saved_and_fails_the_queued_jobs(server_loop, leader) -> None:
    process = Recorder()
    commit = GroupCommit(process, name=f"closing-{leader}")
    items = [(leader, "first"), ("async", "a1"), ("sync", "s1"), ("async", "a2")]
    outcomes = _queue_mixed(commit, process, server_loop, items, close_before_release=True)
    assert process.groups == [["first"]]
    assert outcomes["first"] == "done first"
    assert all(isinstance(outcomes[p], GroupCommitClosed) for p in ("a1", "s1", "a2"))
    assert not any(t.name == f"closing-{leader}-writer" for t in threading.enumerate())
    with pytest.raises(GroupCommitClosed):
        commit.submit("late")
    with pytest.raises(GroupCommitClosed):
        asyncio.run_coroutine_threadsafe(commit.submit_async("late"), server_loop).result(5)
    assert commit.waiting() == 0


def test_a_cancelled_await_takes_its_job_out_of_the_line(server_loop) -> None:
    process = Recorder()
    commit = GroupCommit(process, name="cancel")
    process.gate.clear()
    first = threading.Thread(target=commit.submit, args=("first",))
    first.start()
    _wait_until(lambda: process.inside == 1)
    cancelled = asyncio.run_coroutine_threadsafe(commit.submit_async("gone"), server_loop)
    _wait_until(lambda: commit.waiting() == 1)
    kept = asyncio.run_coroutine_threadsafe(commit.submit_async("kept"), server_loop)
    _wait_until(lambda: commit.waiting() == 2)
    cancelled.cancel()
    _wait_until(lambda: commit.waiting() == 1)
    process.gate.set()
    first.join(5)
    assert kept.result(5) == "done kept"
    assert process.groups == [["first"], ["kept"]]
    commit.close()


class HeldSaves:
    """Holds the registry's first save until the test has queued the commands it wants grouped
    behind it; records each save's number of aggregates."""

    def __init__(self, registry, monkeypatch) -> None:
        self.registry, self.sizes, self.release = registry, [], threading.Event()
        original = type(registry).save

        def save(app, *aggregates, **kwargs):
            self.sizes.append(len(aggregates))
            if len(self.sizes) == 1:
                self.release.wait(10)
            return original(app, *aggregates, **kwargs)

        monkeypatch.setattr(type(registry), "save", save)

    def run(self, *commands) -> list:
        """Run ``commands`` (callables) from threads in this order, the first one's save held
        until all the others are queued; returns each one's result or exception."""
        outcomes: list = [None] * len(commands)

        def call(i: int) -> None:
            try:
                outcomes[i] = commands[i]()
            except Exception as exc:  # noqa: BLE001 - returned to the test
                outcomes[i] = exc

        threads = []
        for i in range(len(commands)):
            threads.append(threading.Thread(target=call, args=(i,)))
            threads[-1].start()
            if i == 0:
                _wait_until(lambda: len(self.sizes) == 1)
            else:
                _wait_until(lambda i=i: self.registry.commands_waiting() == i)
        self.release.set()
        for t in threads:
            t.join(10)
        return outcomes


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_art8_6_concurrent_objections_share_transactions_and_lose_none(registry, monkeypatch) -> None:
    """Many members of the public object at once to a few platforms: every objection is recorded
    once, numbered without gaps per platform, and each answer names its own event's position."""
    drivers = [Driver(registry).to("in_publicity", exception="recorded exception" if i else None)
               for i in range(3)]
    original = type(registry).save

    def slow_save(self, *aggregates, **kwargs):
        time.sleep(0.002)  # a slow disk: commands queue behind each commit
        return original(self, *aggregates, **kwargs)

    monkeypatch.setattr(type(registry), "save", slow_save)
    on = act(Role.BUREAU, "2024-03-01")
    answers: list = []

    def object_(n: int) -> None:
        pid = drivers[n % 3].pid
        answers.append((pid, registry.object(pid, on, objector_name=f"市民{n}", contact="x", content="异议")))

    threads = [threading.Thread(target=object_, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 30
    for d in drivers:
        numbers = sorted(int(r.extra["objection_id"]) for pid, r in answers if pid == d.pid)
        assert numbers == list(range(1, 11))
        assert sorted(registry.get_platform(d.pid).objections) == sorted(str(n) for n in numbers)
    by_position = {n.id: n for n in registry.recorder.select_notifications(1, 10_000)}
    for pid, r in answers:
        event = by_position[r.position]
        assert event.originator_id == pid and event.originator_version == r.version


SQLITE = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


def _object(registry, pid, who: str = "市民", key: Idempotency | None = None):
    return lambda: registry.object(pid, act(Role.BUREAU, "2024-03-01"), objector_name=who, contact="x",
                                   content="异议", idempotency=key)


@SQLITE
def test_commands_on_different_platforms_share_one_transaction(registry, monkeypatch) -> None:
    a, b, c = (Driver(registry).to("in_publicity", exception="recorded exception" if i else None) for i in range(3))
    held = HeldSaves(registry, monkeypatch)
    first, on_b, on_c, on_a = held.run(_object(registry, a.pid), _object(registry, b.pid),
                                       _object(registry, c.pid), _object(registry, a.pid))
    assert held.sizes == [1, 3]  # the first alone; then b, c and a again together
    assert [r.extra["objection_id"] for r in (first, on_b, on_c, on_a)] == ["1", "1", "1", "2"]
    assert len({on_b.position, on_c.position, on_a.position}) == 3


@SQLITE
def test_art9_a_second_funding_in_the_same_queue_is_refused_as_if_alone(registry, monkeypatch) -> None:
    """The second funding read the platform the first one changes: it waits for the next group,
    and is refused on the state after the first (Art. 9: the funds are paid once)."""
    other = Driver(registry).to("in_publicity")
    drv = Driver(registry).to("recognized", exception="recorded exception")
    held = HeldSaves(registry, monkeypatch)
    fund = lambda: registry.fund(drv.pid, act(Role.FINANCE, "2023-12-20", "长财教〔2023〕99号"))  # noqa: E731
    _, funded, again = held.run(_object(registry, other.pid), fund, fund)
    assert funded.version == drv.platform.version and isinstance(again, RuleViolation)
    assert held.sizes == [1, 1]  # the refused one wrote nothing, in a group of its own
    assert registry.get_platform(drv.pid).disbursed == Decimal("1000000.00")


@SQLITE
def test_a_retry_queued_behind_its_first_attempt_is_answered_with_the_first_answer(registry, monkeypatch) -> None:
    other, drv = Driver(registry).to("in_publicity"), Driver(registry).to("in_publicity", exception="recorded")
    held = HeldSaves(registry, monkeypatch)
    key, reused = Idempotency("k-1", "fingerprint-a"), Idempotency("k-1", "fingerprint-b")
    _, first, retry, different = held.run(_object(registry, other.pid), _object(registry, drv.pid, key=key),
                                          _object(registry, drv.pid, key=key), _object(registry, drv.pid, key=reused))
    assert retry.replayed and (retry.position, retry.extra) == (first.position, first.extra)
    assert isinstance(different, IdempotencyKeyReused)
    assert list(registry.get_platform(drv.pid).objections) == ["1"]


@SQLITE
def test_a_group_that_loses_a_race_is_run_again_command_by_command(registry, monkeypatch) -> None:
    """Another process wrote meanwhile (the joint save fails on a version): each command is run
    again on its own, on fresh state, and recorded once."""
    a, b = Driver(registry).to("in_publicity"), Driver(registry).to("in_publicity", exception="recorded")
    original, calls = type(registry).save, []

    def racing_save(app, *aggregates, **kwargs):
        calls.append(len(aggregates))
        if len(calls) == 1:
            raise IntegrityError("another writer took this version")
        return original(app, *aggregates, **kwargs)

    monkeypatch.setattr(type(registry), "save", racing_save)
    on_a, on_b = _object(registry, a.pid)(), _object(registry, b.pid)()
    assert calls == [1, 1, 1]  # the failed joint save, then the first again alone; the second as usual
    assert (on_a.extra["objection_id"], on_b.extra["objection_id"]) == ("1", "1")
    assert list(registry.get_platform(a.pid).objections) == ["1"]


@SQLITE
def test_a_snapshot_that_fails_does_not_turn_a_recorded_command_into_an_error(registry, monkeypatch, caplog) -> None:
    drv = Driver(registry).to("in_publicity")
    while registry.get_platform(drv.pid).version < 49:
        _object(registry, drv.pid)()

    def full_disk(*args, **kwargs):
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(registry.snapshots, "put", full_disk)
    fiftieth = _object(registry, drv.pid)()  # the 50th event: a snapshot is due
    assert fiftieth.version == 50 and registry.get_platform(drv.pid).version == 50
    assert "snapshot not taken" in caplog.text


@SQLITE
def test_art8_3_a_score_queued_behind_the_intake_it_needs_is_not_refused(registry, monkeypatch) -> None:
    """An expert scores a platform whose intake is queued just ahead: alone, after the intake,
    the score is recorded. In one group it would be decided on the platform before the intake
    and refused; it waits for the next group instead."""
    other, drv = Driver(registry).to("in_publicity"), Driver(registry).to("applied")
    policy = registry.policy_of(drv.platform)
    held = HeldSaves(registry, monkeypatch)
    intake = lambda: registry.intake(drv.pid, True, "材料齐全", act(Role.SERVICE_AGENCY, "2022-03-05"))  # noqa: E731
    score = lambda: registry.score(drv.pid, {c.criterion: c.max_points for c in policy.rubric}, "", None,  # noqa: E731
                                   act(Role.EXPERT, "2022-03-10", who="expert-1"))
    _, accepted, scored = held.run(_object(registry, other.pid), intake, score)
    assert not isinstance(scored, Exception), scored
    assert scored.version == accepted.version + 1 and list(drv.platform.scores) == ["expert-1"]


@SQLITE
def test_a_command_that_only_read_what_an_earlier_one_changes_waits_for_the_next_group(registry, monkeypatch) -> None:
    """A command reads one platform and changes another; an objection to the platform it reads
    is queued just ahead. Its read went through its unit of work, so the group commit knows of
    it: the command is decided after the objection is saved, and sees it, as it would alone."""
    a, read, changed = (Driver(registry).to("in_publicity", exception="recorded exception" if i else None)
                        for i in range(3))
    on = act(Role.BUREAU, "2024-03-01")

    def decide(uow):
        seen = len(uow.platform(read.pid).objections)
        platform = uow.platform(changed.pid)
        platform.object(registry.rules.window_for_objection(platform, on.business_date), "市民", "x", "异议", on)
        uow.save(platform)
        return Decision(platform, {"objections_seen": seen})

    held = HeldSaves(registry, monkeypatch)
    _, objected, reader = held.run(_object(registry, a.pid), _object(registry, read.pid),
                                   lambda: registry.committer.run(Command("object", on, None, decide)))
    assert objected.extra["objection_id"] == "1"
    assert reader.extra == {"objections_seen": 1}
    assert held.sizes == [1, 1, 1]


@SQLITE
def test_objections_awaited_in_an_event_loop_share_the_groups_of_threads(registry, monkeypatch, server_loop) -> None:
    """Committer.run_async: the command queues with those of threads, is answered with its own
    position, replays its key, is refused on its own merits, and the observer hears of each."""
    a, b = Driver(registry).to("in_publicity"), Driver(registry).to("in_publicity", exception="recorded")
    heard: list = []

    class Observer:
        def command(self, name: str, error: BaseException | None) -> None:
            heard.append((name, None if error is None else type(error).__name__))

        def group_saved(self, commands: int) -> None:
            heard.append(("group", commands))

    registry.committer.observer = Observer()
    on, key = act(Role.BUREAU, "2024-03-01"), Idempotency("k-1", "fingerprint-a")

    def awaited(pid, idempotency: Idempotency | None = None):
        command = registry.object_command(pid, on, objector_name="市民", contact="x", content="异议",
                                          idempotency=idempotency)
        return lambda: asyncio.run_coroutine_threadsafe(registry.committer.run_async(command), server_loop).result(10)

    held = HeldSaves(registry, monkeypatch)
    first, on_b, retry, on_a, missing = held.run(_object(registry, a.pid), awaited(b.pid, key), awaited(b.pid, key),
                                                 _object(registry, a.pid), awaited(uuid.uuid4()))
    assert [r.extra["objection_id"] for r in (first, on_b, on_a)] == ["1", "1", "2"]
    assert retry.replayed and (retry.position, retry.extra) == (on_b.position, on_b.extra)
    assert isinstance(missing, NotFound)
    by_position = {n.id: n for n in registry.recorder.select_notifications(1, 10_000)}
    for r in (first, on_a):
        assert by_position[r.position].originator_id == a.pid
    assert list(registry.get_platform(b.pid).objections) == ["1"]  # the retry wrote nothing
    assert sorted(str(outcome) for name, outcome in heard if name == "object") == ["None"] * 4 + ["NotFound"]
    assert sum(n for name, n in heard if name == "group") == 3
    registry.close()  # the writer thread ends with the registry
    assert not any(t.name == "group-commit-writer" and t.is_alive() for t in threading.enumerate())
