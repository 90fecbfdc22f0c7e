"""The pre-flight check as the officer sees it before leaving: one line a check — ready, check or
not ready, what was found and what to do. The database is read on its lane; the devices the window
has not opened are asked on an I/O worker (those it has open answer with their state)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from devices import session as S
from devices.manager import device_kind
from devices.probe import ProbeResult
from kit_app.dto import OfficerInfo
from kit_app.i18n import N_, _
from kit_app.services.preflight import LEVELS, RED, PreflightService, Report
from kit_app.timeutil import format_local
from ui.device_hub import DeviceHub
from ui.models import RowsModel
from ui.panes import _table
from ui.services import Services
from ui.tasks import IO, TaskRunner, describe_error

COLOURS = {"green": "#1b7f3b", "amber": "#a15c00", "red": "#b3261e"}
MARKS = {"green": "✔", "amber": "!", "red": "✘"}


class ChecksModel(RowsModel):
    columns = (
        (N_("State"), lambda c: f"{MARKS[c.level]} {_(LEVELS[c.level])}"),
        (N_("Check"), lambda c: c.title),
        (N_("Found"), lambda c: c.summary),
        (N_("What to do"), lambda c: c.advice),
    )

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if role == Qt.ItemDataRole.ForegroundRole and row is not None and index.column() == 0:
            return QColor(COLOURS[row.level])
        return super().data(index, role)


class PreflightDialog(QDialog):
    def __init__(self, parent: QWidget | None, services: Services, runner: TaskRunner, officer: OfficerInfo,
                 hub: DeviceHub) -> None:
        super().__init__(parent)
        self.setObjectName("preflight")
        self.setWindowTitle(_("Pre-flight check"))
        self.resize(1000, 520)
        self.services, self.runner, self.officer, self.hub = services, runner, officer, hub
        self.service = PreflightService(services.store)
        self.report: Report | None = None
        self.verdict = QLabel(_("Checking…"))
        self.verdict.setObjectName("preflight_verdict")
        font = self.verdict.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.verdict.setFont(font)
        self.model = ChecksModel(self)
        self.view = _table(self.model)
        self.view.setObjectName("preflight_checks")
        self.view.setWordWrap(True)
        head = self.view.horizontalHeader()
        for col, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.ResizeToContents,
                                    QHeaderView.ResizeMode.Stretch, QHeaderView.ResizeMode.Stretch)):
            head.setSectionResizeMode(col, mode)
        self.minutes = QSpinBox()
        self.minutes.setRange(0, 24 * 60)
        self.minutes.setSingleStep(30)
        self.minutes.setValue(120)
        self.minutes.setSuffix(" " + _("min"))
        self.again = QPushButton(_("Check again"))
        self.again.setObjectName("preflight_again")
        self.again.clicked.connect(self.check)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Video the inspection may need:")))
        row.addWidget(self.minutes)
        row.addStretch(1)
        row.addWidget(self.again)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.verdict)
        lay.addLayout(row)
        lay.addWidget(self.view, 1)
        lay.addWidget(buttons)
        self.check()

    def check(self) -> None:
        self.again.setEnabled(False)
        self.verdict.setText(_("Checking… (each device is given a few seconds to answer)"))
        self.verdict.setStyleSheet("")
        self.runner.run(lambda: self.service.collect(self.officer), self._collected, self._failed)

    def _open_states(self) -> dict[str, ProbeResult]:
        """What the devices the window has open say (their ports cannot be opened twice)."""
        out = {}
        manager = self.hub.manager
        for cfg in manager.configs:
            if manager.get(cfg.name) is None:
                continue
            state, detail = manager.state(cfg.name)
            fix = self.hub.gps.current() if device_kind(cfg) == "gps" else None
            out[cfg.name] = ProbeResult(cfg.name, device_kind(cfg), state == S.LIVE,
                                        _(S.STATE_LABELS.get(state, state)) + (f"（{detail}）" if detail else ""),
                                        fix if fix and fix.get("time") else None)
        return out

    def _collected(self, facts: Any) -> None:
        known = self._open_states()
        closed = [c for c in facts.devices if c.name not in known]
        fix = self.hub.gps.current()
        minutes = self.minutes.value()

        def probe_and_assess() -> Report:
            probed = {p.name: p for p in PreflightService.probe(closed, seconds=6.0)}
            probes = [known.get(c.name) or probed[c.name] for c in facts.devices]
            return self.service.assess(facts, probes, gnss_fix=fix if fix and fix.get("time") else None,
                                       video_minutes=minutes)

        self.runner.run(probe_and_assess, self._shown, self._failed, lane=IO)

    def _shown(self, rep: Report) -> None:
        self.report = rep
        self.model.set_rows(rep.checks)
        self.view.resizeRowsToContents()
        when = format_local(rep.at, with_seconds=True)
        text = {"green": _("Ready for the field ({at})."), "amber": _("Ready, with points to check ({at})."),
                "red": _("Not ready: mend what is marked ✘ before leaving ({at}).")}[rep.level].format(at=when)
        self.verdict.setText(text)
        self.verdict.setStyleSheet(f"color: {COLOURS[rep.level]}")
        self.again.setEnabled(True)

    def _failed(self, exc: BaseException) -> None:
        self.verdict.setText(describe_error(exc))
        self.verdict.setStyleSheet(f"color: {COLOURS[RED]}")
        self.again.setEnabled(True)
