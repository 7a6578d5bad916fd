"""The local CRM: contacts by email address and one activity per email."""
