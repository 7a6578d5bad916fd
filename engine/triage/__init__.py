"""The triage workflow: parse → minimise → classify → CRM → draft → route → (review) → send → close."""
