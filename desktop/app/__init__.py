"""The PySide6 desktop application: main window, review queue, audit log, activity, contacts, settings.

Nothing in here runs SQL or talks to the network on the GUI thread: views hold Qt item models
fed from :class:`engine.queries.Queries` through :class:`desktop.app.tasks.TaskManager`, which
runs every engine call on a worker thread and hands results back by Qt signals.
"""
