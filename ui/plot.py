"""A light time-series plot painted with QPainter (the Essentials wheel has no QtCharts)."""

from __future__ import annotations

from collections import deque
from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from kit_app.i18n import _
from kit_app.timeutil import LOCAL_TZ


class SeriesPlot(QWidget):
    """A time series of one quantity (by default the last ten minutes), with its axes, unit and latest value."""

    def __init__(self, parent: QWidget | None = None, window: float | None = 600.0) -> None:
        super().__init__(parent)
        self.window = window  # seconds shown, up to the latest point; None: the whole series
        self.setObjectName("series_plot")
        self.setMinimumHeight(200)
        self.points: deque[tuple[float, float]] = deque(maxlen=20000)
        self.label = ""
        self.unit = ""

    def set_series(self, label: str, unit: str, points: list[tuple[float, float]]) -> None:
        self.label, self.unit = label, unit
        self.points = deque(points, maxlen=20000)
        self.update()

    def add(self, t: float, v: float) -> None:
        self.points.append((t, v))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        left, right, top, bottom = 56, 12, 26, 26
        area = QRectF(left, top, self.width() - left - right, self.height() - top - bottom)
        p.setPen(QColor("#333"))
        title = f"{self.label} ({self.unit})" if self.unit else self.label
        if self.points:
            title += "  " + _("latest {value:g}").format(value=self.points[-1][1])
        p.drawText(QRectF(left, 2, area.width(), top - 4), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   title or _("No readings yet"))
        p.setPen(QPen(QColor("#ccc"), 1))
        p.drawRect(area)
        if len(self.points) < 1:
            return
        t_end = self.points[-1][0]
        t0 = t_end - self.window if self.window is not None else float("-inf")
        pts = [(t, v) for t, v in self.points if t >= t0]
        vals = [v for _t, v in pts]
        lo, hi = min(vals), max(vals)
        if hi - lo < 1e-9:
            lo, hi = lo - 1, hi + 1
        pad = (hi - lo) * 0.08
        lo, hi = lo - pad, hi + pad
        span_t = max(t_end - pts[0][0], 1.0)
        for i in range(5):  # horizontal grid and value labels
            v = lo + (hi - lo) * i / 4
            y = area.bottom() - area.height() * i / 4
            p.setPen(QPen(QColor("#eee"), 1))
            p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            p.setPen(QColor("#555"))
            p.drawText(QRectF(0, y - 9, left - 6, 18), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       f"{v:.4g}")
        p.setPen(QColor("#555"))
        for frac, align in ((0.0, Qt.AlignmentFlag.AlignLeft), (1.0, Qt.AlignmentFlag.AlignRight)):
            t = pts[0][0] + span_t * frac
            when = datetime.fromtimestamp(t, LOCAL_TZ).strftime("%H:%M:%S")
            p.drawText(QRectF(area.left(), area.bottom() + 4, area.width(), bottom - 6), align, when)
        path = QPainterPath()
        for i, (t, v) in enumerate(pts):
            pt = QPointF(area.left() + area.width() * (t - pts[0][0]) / span_t,
                         area.bottom() - area.height() * (v - lo) / (hi - lo))
            if i == 0:
                path.moveTo(pt)
            else:
                path.lineTo(pt)
        p.setPen(QPen(QColor("#1565c0"), 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
        if len(pts) == 1:
            p.drawEllipse(path.currentPosition(), 3, 3)
