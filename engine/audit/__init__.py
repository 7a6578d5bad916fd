"""The tamper-evident audit log: events, the hash chain, verification, export, signing and retention.

Modules (the public specification for outsiders is ``docs/audit-log.md``):

- :mod:`engine.audit.event` — the event shape (:class:`NewAuditEvent`, :class:`AuditEvent`).
- :mod:`engine.audit.chain` — canonical encoding, hash, :func:`~engine.audit.chain.seal`.
- :mod:`engine.audit.verify` — :func:`~engine.audit.verify.verify_chain` over a stream of events.
- :mod:`engine.audit.signing` — Ed25519 anchors of the head (:class:`~engine.audit.signing.AnchorSigner`).
- :mod:`engine.audit.export` — JSON Lines and CSV exports: write, read, verify.
- :mod:`engine.audit.retention` — the audit record of a retention purge.
"""
