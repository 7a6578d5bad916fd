"""Alembic migration scripts for the Inbox Triage schema."""
