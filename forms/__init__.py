"""Declarative, versioned definitions of the enforcement documents (执法文书).

Each document type is a JSON file in ``forms/definitions/``: its fields (type, required, length,
where an auto-filled value comes from), fixed legal text, signature blocks, layout hints and an
example payload. The UI's input form and the PDF renderer (``reports/``) are both driven by it; a
filled document records the definition's id and version.
"""

from forms.model import DocumentDef, FieldDef, FormError, definitions, get

__all__ = ["DocumentDef", "FieldDef", "FormError", "definitions", "get"]
