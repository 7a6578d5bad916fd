"""Self-tests proving the shared real-server fixtures work."""
