"""PDF rendering of the enforcement documents (reportlab), from their ``forms/`` definitions."""

from reports.pdf import RenderResult, render

__all__ = ["RenderResult", "render"]
