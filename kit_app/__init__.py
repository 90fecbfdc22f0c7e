"""Enforcement Evidence Kit — the Qt-free core.

Domain, store, services and the command line live here; nothing in this package imports Qt.
"""

__version__ = "0.1.0"
