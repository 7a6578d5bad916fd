"""The headless command line: the same wiring as the desktop, no window."""
