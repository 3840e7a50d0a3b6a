"""Art. 7(1) at recognition: the host unit must still be a high-tech enterprise on the day it is
recognised (Art. 9(3)), by the certificate it applied with or a renewed one the bureau recorded."""

from __future__ import annotations

from datetime import date

import pytest

from aggregates.errors import InvalidInput, RuleViolation
from aggregates.programme import Driver, act, host_unit
from aggregates.values import Role


def test_art7_certificate_expired_before_recognition_is_refused_until_renewed(memory_registry):
    # Valid on the application date (2022-03-01), expired in 2022-04, recognition due 2023-12-10.
    drv = Driver(memory_registry).to("qualified", host_unit=host_unit(valid_until=date(2022, 4, 30)))
    with pytest.raises(RuleViolation) as err:
        drv.programme.recognize(drv.pid)
    assert (err.value.code, err.value.article) == ("high_tech_certificate_expired", "Art. 7(1)")
    assert "2022-04-30" in err.value.message and "2023-12-10" in err.value.message
    assert drv.platform.status == "qualified"
    memory_registry.renew_certificate(drv.pid, act(Role.BUREAU, "2023-12-06"), number="GR202343000456",
                                      valid_until=date(2026, 12, 5))
    assert drv.platform.host_unit["high_tech_certificate"] == {"number": "GR202343000456",
                                                               "valid_until": date(2026, 12, 5)}
    drv.programme.recognize(drv.pid)
    assert drv.platform.status == "recognized"
    names = [type(e).__name__ for e in memory_registry.stream(drv.pid)]
    assert names[-2:] == ["HighTechCertificateRenewed", "Recognized"]


def test_art7_certificate_valid_through_the_recognition_day_suffices(memory_registry):
    drv = Driver(memory_registry).to("qualified", host_unit=host_unit(valid_until=date(2023, 12, 10)))
    drv.programme.recognize(drv.pid)  # on 2023-12-10, its last valid day
    assert drv.platform.status == "recognized"


def test_art7_a_renewal_must_be_valid_and_run_beyond_the_certificate_on_file(memory_registry):
    drv = Driver(memory_registry).to("qualified", host_unit=host_unit(valid_until=date(2022, 4, 30)))
    on = act(Role.BUREAU, "2023-12-06")
    cases = ((date(2023, 12, 5), "high_tech_certificate_expired"), (date(2022, 4, 30), "high_tech_certificate_expired"))
    for valid_until, code in cases:
        with pytest.raises(RuleViolation) as err:
            memory_registry.renew_certificate(drv.pid, on, number="GR2", valid_until=valid_until)
        assert (err.value.code, err.value.article) == (code, "Art. 7(1)")
    with pytest.raises(InvalidInput):
        memory_registry.renew_certificate(drv.pid, on, number=" ", valid_until=date(2026, 12, 5))
    memory_registry.renew_certificate(drv.pid, on, number="GR2", valid_until=date(2026, 12, 5))
    with pytest.raises(RuleViolation) as err:
        memory_registry.renew_certificate(drv.pid, act(Role.BUREAU, "2023-12-07"), number="GR3",
                                          valid_until=date(2026, 12, 5))
    assert err.value.code == "certificate_not_renewed"
