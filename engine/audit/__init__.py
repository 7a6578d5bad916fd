"""The tamper-evident audit log: events, the hash chain, verification, export, signing and retention."""
