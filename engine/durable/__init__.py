"""The durable runner: runs keyed by email identity, checkpointed steps, retries, leases and effects."""
