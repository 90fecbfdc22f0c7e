"""The only Qt code of the application: widgets, Qt models over the core services, workers."""

from ui import qtcompat as _qtcompat  # noqa: F401 - applies the binding work-around before any Qt use
