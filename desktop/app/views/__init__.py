"""The main window's pages: review queue, activity, audit log, contacts, and the opening screens."""
