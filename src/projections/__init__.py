"""Read models (CQRS 查询侧) of the platform registry, fed from the event log.

* :mod:`projections.views` — the platform summary (``summarize``) that commands and queries share;
* :mod:`projections.db` — ``make_engine`` on the read models' database;
* :mod:`projections.runner` — ``ReadModelRunner``: follows the log, exactly once;
* :mod:`projections.rebuild` — ``rebuild``: from position 0 into shadow tables, then a swap;
* :mod:`projections.queries` — query functions in docs/API.md's shapes;
* :mod:`projections.reconcile` — the funding ledger checked against the events.
"""
