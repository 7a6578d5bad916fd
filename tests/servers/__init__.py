"""Real servers for tests (Dovecot, aiosmtpd, PostgreSQL, Xvfb), started on loopback and stopped by PID."""
