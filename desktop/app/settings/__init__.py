"""The Settings tab and its pages.

A page is one class (a :class:`framework.SettingsPage`: title, widget, ``load``, ``validate``,
``save``) listed in one place, :mod:`desktop.app.settings.registry`.
"""
