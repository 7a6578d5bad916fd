"""Labelled example emails the local model is trained on (``examples.jsonl``), shipped with the app."""
