"""Line-based vendor ASCII protocols, described by a regular expression with named groups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kit_app.errors import ProtocolError
from kit_app.i18n import _

# e.g. "PM25,35.2,ug/m3" or "LAeq=74.3 dB"
DEFAULT_PATTERN = r"^(?P<name>[A-Za-z][\w.]*)[,=:\s]+(?P<value>[-+]?\d+(?:\.\d+)?)[,\s]*(?P<unit>\S*)$"


class AsciiError(ProtocolError):
    """A bad pattern, or a line that does not match it."""


@dataclass
class AsciiProtocol:
    pattern: str = DEFAULT_PATTERN

    def __post_init__(self) -> None:
        try:
            self._rx = re.compile(self.pattern)
        except re.error as exc:
            raise AsciiError(_("the pattern is not a valid regular expression: {e}").format(e=exc)) from exc
        if "value" not in self._rx.groupindex:
            raise AsciiError(_("the pattern needs a (?P<value>…) group"))

    def parse(self, line: str | bytes) -> dict[str, Any]:
        text = line.decode("ascii", errors="replace") if isinstance(line, bytes) else line
        m = self._rx.match(text.strip())
        if not m:
            raise AsciiError(_("the line does not match the pattern: {line!r}").format(line=text.strip()[:80]))
        g = m.groupdict()
        try:
            value: Any = float(g["value"])
        except (TypeError, ValueError):
            value = g["value"]
        return {"valid": True, "name": g.get("name"), "value": value, "unit": g.get("unit") or None}
