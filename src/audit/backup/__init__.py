"""Backup and restore (备份与恢复) of what cannot be rebuilt: the events and the tables kept with
them (accounts, login throttle, audit checkpoints and cosignatures, the log seal), the
operator's policy and calendar files, and the public keys the audit is verified with; the
secret keys only when asked, encrypted under a passphrase.

A backup is a directory (:mod:`.manifest` describes it) taken online while servers write: on
SQLite through the online backup API inside one read transaction (:mod:`.sqlite_store`), on
PostgreSQL through ``pg_dump`` in a snapshot exported by the transaction that reads the log's
head (:mod:`.postgres_store`), so the manifest's head and checkpoint are exactly the backup's.
:mod:`.service` takes and restores one; ``platforms backup`` and ``platforms restore``
(:mod:`api.cli_backup`) only translate. The read models are not backed up: a restore rebuilds
them from the events.
"""
