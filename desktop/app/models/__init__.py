"""Qt item models over the engine's query API (fed by background tasks, never by SQL on the GUI thread)."""
