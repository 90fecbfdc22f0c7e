"""Date and date-time pickers for document fields: a calendar pops up, the time is set with the
arrows or typed, and a field may stay empty (shown blank) until the officer picks — then it starts
from today, not from the year 2000."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtGui import QFocusEvent, QMouseEvent
from PySide6.QtWidgets import QDateTimeEdit

_EMPTY = QDateTime(QDate(2000, 1, 1), QTime(0, 0))  # shown blank: "not filled in"


class DatePicker(QDateTimeEdit):
    """``with_time``: YYYY-MM-DD HH:MM, else YYYY-MM-DD; ``value()`` is ISO text or None."""

    def __init__(self, with_time: bool) -> None:
        super().__init__()
        self.with_time = with_time
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd HH:mm" if with_time else "yyyy-MM-dd")
        self.setMinimumDateTime(_EMPTY)
        self.setSpecialValueText(" ")  # the minimum shows as a blank field
        self.setDateTime(_EMPTY)

    def is_empty(self) -> bool:
        return self.dateTime() == _EMPTY

    def _start_today(self) -> None:
        if self.is_empty():
            now = QDateTime.currentDateTime()
            self.setDateTime(QDateTime(now.date(), QTime(now.time().hour(), now.time().minute())))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - the calendar opens on today
        self._start_today()
        super().mousePressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - typing starts from today too
        super().focusInEvent(event)
        if event.reason() in (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason):
            self._start_today()

    def set_value(self, value: Any) -> None:
        """An ISO date or date-time (a date-time's date for a date field); None or "" empties it."""
        if value in (None, ""):
            self.setDateTime(_EMPTY)
            return
        s = str(value).replace(" ", "T")
        try:
            dt = datetime.fromisoformat(s) if "T" in s else datetime.combine(date.fromisoformat(s), datetime.min.time())
        except ValueError:
            self.setDateTime(_EMPTY)
            return
        self.setDateTime(QDateTime(QDate(dt.year, dt.month, dt.day), QTime(dt.hour, dt.minute)))

    def value(self) -> str | None:
        if self.is_empty():
            return None
        d, t = self.date(), self.time()
        day = f"{d.year():04d}-{d.month():02d}-{d.day():02d}"
        return f"{day}T{t.hour():02d}:{t.minute():02d}" if self.with_time else day
