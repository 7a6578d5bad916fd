"""Helpers shared by the test suite: keyring, certificates, ports, processes and binaries."""
