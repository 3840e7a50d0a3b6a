"""Audit (审计): history, time travel, verification of the hash chain and the Merkle tree,
signed checkpoints, proofs, export and reconciliation. Reads the event store directly and
changes nothing in it."""
