"""The domain (领域) of the platform registry under 长科发〔2021〕36号.

* :mod:`aggregates.platform` — the Platform aggregate: every step of Art. 8, 9, 11 and 13;
* :mod:`aggregates.seat` — one platform per subfield (Art. 5), saved with the platform;
* :mod:`aggregates.batch` — a publicity batch (Art. 8(6));
* :mod:`aggregates.policy` and :mod:`aggregates.calendar` — policy versions and working days, as data;
* :mod:`aggregates.application` — ``RegistryApp``, one method per command: load, decide, save;
* :mod:`aggregates.unit_of_work` — what one command reads and changes; :mod:`aggregates.committer`
  saves it (race retries, group commit, idempotency, cache, snapshots);
* :mod:`aggregates.rules` — the policy and calendar a command applies;
* :mod:`aggregates.hashing` — the hash chain every stored event carries.
"""
