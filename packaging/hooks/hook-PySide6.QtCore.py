"""PyInstaller's own hook for PySide6.QtCore, minus the Qt plugins and translations the app does not use.

Hooks in this folder take precedence over PyInstaller's; the filtering rules (and why) are in
packaging/bundle_rules.py. Filtering here, before PyInstaller follows the plugins' shared-library
dependencies, also keeps out the libraries only those plugins needed (Wayland, EGLFS, GTK).
"""

from bundle_rules import filter_qt_hook
from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries, datas = filter_qt_hook(binaries, datas)
