"""How acts and dates are stored and read back: exactly, and equal acts shared when decoded."""

from __future__ import annotations

from datetime import date

from aggregates.transcodings import ActAsDict, make_transcoder
from aggregates.values import Act, Role


def test_an_act_round_trips_exactly_and_equal_acts_are_decoded_once() -> None:
    transcoder = make_transcoder()
    act = Act("bureau-1", Role.BUREAU, date(2022, 10, 8), ("长科发〔2022〕5号",), recorded_on=date(2022, 10, 10))
    stored = transcoder.encode({"act": act, "on": date(2022, 10, 10)})
    assert b"recorded_on" not in stored  # the day it was recorded is the command's, not the event's
    first, second = transcoder.decode(stored), transcoder.decode(stored)
    assert first == {"act": act, "on": date(2022, 10, 10)} and first["act"].recorded_on is None
    assert first["act"] is second["act"]  # immutable, so shared
    other = transcoder.decode(transcoder.encode({"act": Act("bureau-1", Role.BUREAU, date(2022, 10, 8),
                                                                     recorded_on=date(2022, 10, 8))}))
    assert other["act"] != act and other["act"].document_refs == ()


def test_the_act_memo_is_bounded() -> None:
    acts = ActAsDict()
    acts.MEMO_SIZE = 3
    day = date(2022, 10, 8)
    decoded = [acts.decode(Act(f"a{i}", Role.PUBLIC, day, recorded_on=day).to_dict()) for i in range(7)]
    assert [a.actor_id for a in decoded] == [f"a{i}" for i in range(7)] and len(acts._decoded) <= 3
