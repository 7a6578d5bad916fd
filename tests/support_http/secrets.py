"""An in-memory :class:`engine.ports.SecretStore` for connector tests."""

from __future__ import annotations


class DictSecrets:
    """Secrets in a dict; ``reads`` counts lookups."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = dict(values or {})
        self.reads = 0

    def get(self, name: str) -> str | None:
        """The secret, or None."""
        self.reads += 1
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        """Store a secret."""
        self.values[name] = value

    def delete(self, name: str) -> None:
        """Forget a secret."""
        self.values.pop(name, None)
