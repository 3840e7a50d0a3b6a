"""How acts and dates are stored and read back: exactly, and equal acts shared when decoded."""

from __future__ import annotations

from datetime import date

import pytest
from eventsourcing.persistence import JSONTranscoder

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


def library_decode(data: bytes) -> object:
    """What the library's JSON transcoder (``json`` with an object hook) reads from ``data``."""
    reference = JSONTranscoder()
    transcoder = make_transcoder()
    reference.types, reference.names = transcoder.types, transcoder.names
    return reference.decode(data)


@pytest.mark.parametrize("data", [
    # every value type, nested in objects and arrays, a transcoded object inside another's data
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2022-10-08T01:02:03.000004+00:00"},'
    b'"act":{"_type_":"act","_data_":{"actor_id":"b","role":"bureau","business_date":"2022-10-08",'
    b'"document_refs":["\xe9\x95\xbf\xe7\xa7\x91\xe5\x8f\x91"],"recorded_by":{"actor_id":"c","role":"service_agency"}}},'
    b'"scores":{"x":{"_type_":"decimal_str","_data_":"24.50"}},"ids":[{"_type_":"uuid_hex","_data_":'
    b'"5abfb88ef2e65e2ebbece9835e6c6c72"},[{"_type_":"date_iso","_data_":"2022-09-29"}]],'
    b'"look_alike":{"_type_":"date_iso","_data_":"2022-09-29","extra":1},"half":{"_type_":"x"}}',
    b'{"big":123456789012345678901234567890,"neg":-18446744073709551617,"f":1.0000000000000002}',
    b'{"nul":"\\u0000","ctl":"\\u001f\\n","sep":"\xe2\x80\xa8","dup":1,"dup":2}',
    b'[{"_type_":"date_iso","_data_":"2022-09-29"},[]]',
    b'{"_type_":"decimal_str","_data_":"1.00"}',
    b'{"_type_":"act","_data_":{"actor_id":"a","role":"public","business_date":"2022-10-08","document_refs":[]}}',
    # what msgspec refuses and json reads: left to the library's decoder, same result
    b'{"nan":NaN,"inf":Infinity,"huge":1e400}',
    b'{"lone":"\\ud800"}',
])
def test_events_decode_exactly_as_the_librarys_decoder_reads_them(data: bytes) -> None:
    ours, theirs = make_transcoder().decode(data), library_decode(data)
    # repr: the same types too (an int is not a float), and NaN, which equals nothing, compares
    assert repr(ours) == repr(theirs)
    assert "_type_" not in repr(ours) or b"look_alike" in data


@pytest.mark.parametrize("data", [b'{"a":', b'\xff\xfe', b'{"_type_":"nope","_data_":1}'])
def test_unreadable_state_is_refused_as_the_librarys_decoder_refuses_it(data: bytes) -> None:
    with pytest.raises(Exception) as ours:
        make_transcoder().decode(data)
    with pytest.raises(Exception) as theirs:
        library_decode(data)
    assert type(ours.value) is type(theirs.value)
