"""One module per triage step."""
