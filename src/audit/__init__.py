"""Audit (审计): history, time travel, verification of the hash chain and the Merkle tree,
signed checkpoints, proofs, export and reconciliation, and backup and restore (``backup/``).
Reads the event store directly and changes nothing in it; only a restore writes, and only into
an empty store."""
