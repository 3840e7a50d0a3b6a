"""The domain (领域) of the platform registry under 长科发〔2021〕36号.

* :mod:`aggregates.platform` — the Platform aggregate: every step of Art. 8, 9, 11 and 13;
* :mod:`aggregates.seat` — one platform per subfield (Art. 5), saved with the platform;
* :mod:`aggregates.batch` — a publicity batch (Art. 8(6));
* :mod:`aggregates.policy` and :mod:`aggregates.calendar` — policy versions and working days, as data;
* :mod:`aggregates.application` — ``RegistryApp``, one method per command;
* :mod:`aggregates.hashing` — the hash chain every stored event carries.
"""
