"""Adapters that implement the engine's ports over the network and the local file system.

Imports ``engine``'s interfaces and types; never PySide6, never ``desktop``.
"""
