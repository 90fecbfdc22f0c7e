"""The case procedure in the window: where the case stands, its deadlines (days left, overdue in
red), its history, and the next steps — each step the officer may take as a button, each step not
yet possible with the rule that stands in the way. A step asks for what it records (the reason,
the outcome and fine, a date, a witness) and is checked and recorded by the core
(``kit_app.services.lifecycle``); a refusal is shown in the officer's words."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kit_app import roles as R
from kit_app.dto import OfficerInfo
from kit_app.i18n import _
from kit_app.services.lifecycle import ARCHIVE, ActionInfo, CaseStatus, label
from kit_app.timeutil import format_local, local_today
from ui.deadlines import deadline_colour, deadline_text
from ui.dialogs import TaskDialog
from ui.services import Services
from ui.tasks import TaskRunner


# ---------------------------------------------------------------- one step
class ActionDialog(TaskDialog):
    """What a step records — reason, outcome and fine, a date, a witness, a place — then the step."""

    taken = Signal(object)  # CaseEventInfo

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo, case_id: str,
                 action: ActionInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.setWindowTitle(action.label)
        self.setMinimumWidth(480)
        form = QFormLayout()
        basis = QLabel(action.basis)
        basis.setWordWrap(True)
        basis.setStyleSheet("color: #555;")
        form.addRow(_("Legal basis"), basis)
        self.inputs: dict[str, Any] = {}
        procedure = services.lifecycle.procedure
        for f in action.fields:
            if f == "outcome":
                w: Any = QComboBox()
                for o in procedure.outcomes.values():
                    if o.decision:
                        w.addItem(label(o), o.id)
                form.addRow(_("Outcome"), w)
            elif f == "fine_yuan":
                w = QDoubleSpinBox()
                w.setRange(0, 100_000_000)
                w.setDecimals(2)
                w.setGroupSeparatorShown(True)
                w.setSuffix(" " + _("yuan"))
                form.addRow(_("Fine"), w)
            elif f in ("hearing_date", "paid_on"):
                w = QDateEdit(_kit_today())
                w.setCalendarPopup(True)
                w.setDisplayFormat("yyyy-MM-dd")
                form.addRow(_("Hearing date") if f == "hearing_date" else _("Paid on"), w)
            else:
                w = QLineEdit()
                form.addRow({"witness": _("Witness (name, and who they are)"), "place": _("Place")}.get(f, f), w)
            w.setObjectName(f)
            self.inputs[f] = w
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("reason")
        self.reason.setMaximumHeight(90)
        form.addRow(_("Reason") if action.reason_required else _("Reason (optional)"), self.reason)

        def values() -> dict[str, Any]:
            out: dict[str, Any] = {}
            for f, w in self.inputs.items():
                if isinstance(w, QComboBox):
                    out[f] = w.currentData()
                elif isinstance(w, QDoubleSpinBox):
                    out[f] = w.value()
                elif isinstance(w, QDateEdit):
                    d = w.date()
                    out[f] = date(d.year(), d.month(), d.day()).isoformat()
                else:
                    out[f] = w.text()
            return out

        def submit() -> None:
            if action.reason_required and not self.reason.toPlainText().strip():
                self.show_error(_("Give the reason: it is recorded in the case."))
                return
            details, reason = values(), self.reason.toPlainText()
            if action.id == ARCHIVE:  # the case file is built and kept with the step (a few seconds)
                self.submit_task(lambda: services.casefile.archive(case_id, officer, reason=reason).event,
                                 lambda ev: (self.taken.emit(ev), self.accept()))
                return
            self.submit_task(lambda: services.lifecycle.act(case_id, action.id, officer, reason=reason,
                                                            details=details),
                             lambda ev: (self.taken.emit(ev), self.accept()))

        self.lay_out(form, on_ok=submit)


# ---------------------------------------------------------------- the case
class CaseProcedureDialog(QDialog):
    """Where a case stands in its procedure and what comes next."""

    changed = Signal()

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo, case_id: str, title: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.officer, self.case_id = services, runner, officer, case_id
        self.setObjectName("case_procedure")
        self.setWindowTitle(_("Case procedure — {case}").format(case=title))
        self.resize(900, 640)
        self.stage = QLabel()
        self.stage.setObjectName("stage")
        self.stage.setStyleSheet("font-size: 17px; font-weight: bold;")
        self.deadlines = QLabel()
        self.deadlines.setObjectName("deadlines")
        self.deadlines.setWordWrap(True)
        self.deadlines.setTextFormat(Qt.TextFormat.RichText)
        self.next_box = QGroupBox(_("Next steps"))
        self.next_lay = QVBoxLayout(self.next_box)
        self.history = QTextBrowser()
        self.history.setObjectName("history")
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        close = QPushButton(_("Close"))
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.stage)
        lay.addWidget(self.deadlines)
        lay.addWidget(self.next_box)
        lay.addWidget(QLabel(_("History")))
        lay.addWidget(self.history, 1)
        lay.addLayout(bottom)
        self.buttons: dict[str, QPushButton] = {}
        self.status: CaseStatus | None = None
        self.refresh()

    def refresh(self) -> None:
        case_id, officer = self.case_id, self.officer
        self.runner.run(lambda: self.services.lifecycle.status(case_id, officer), self._show,
                        lambda e: self.message.setText(str(e)))

    def _show(self, st: CaseStatus) -> None:
        self.status = st
        self.stage.setText(_("Stage: {state}").format(state=st.state_label))
        rows = []
        for d in st.deadlines:
            colour = deadline_colour(d)
            text = escape(f"{d.label}: {deadline_text(d)}")
            tip = escape(d.basis)
            rows.append(f"<div title='{tip}'>" + (f"<span style='color:{colour}'>{text}</span>" if colour else text)
                        + "</div>")
        self.deadlines.setText("".join(rows) or escape(_("No deadline is running.")))
        while self.next_lay.count():
            item = self.next_lay.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.buttons.clear()
        allowed = [a for a in st.actions if a.allowed]
        waiting = [a for a in st.actions if not a.allowed]
        row = QHBoxLayout()
        for a in allowed:
            b = QPushButton(a.label)
            b.setObjectName(f"action_{a.id}")
            b.setToolTip(a.basis)
            b.clicked.connect(lambda _c=False, act=a: self.take(act))
            self.buttons[a.id] = b
            row.addWidget(b)
        row.addStretch(1)
        holder = QWidget()
        holder.setLayout(row)
        self.next_lay.addWidget(holder)
        if not allowed:
            self.next_lay.addWidget(QLabel(_("Nothing you can do on this case now.") if not st.final
                                           else _("The case is finished.")))
        for a in (a for a in waiting if a.mine):
            reason = (a.why_not or "").removeprefix(_("{action}: {why}").format(action=a.label, why=""))
            why = QLabel(f"✗ {a.label} — {reason}")
            why.setObjectName(f"why_{a.id}")
            why.setWordWrap(True)
            why.setStyleSheet("color: #666;")
            self.next_lay.addWidget(why)
        others = [a for a in waiting if not a.mine]
        if others:
            names = "、".join(f"{a.label}（{'、'.join(_(R.ROLE_LABELS[r]) for r in a.roles)}）" for a in others)
            line = QLabel(_("Steps for others: {steps}").format(steps=names))
            line.setObjectName("others_steps")
            line.setWordWrap(True)
            line.setStyleSheet("color: #888;")
            self.next_lay.addWidget(line)
        lines = []
        for e in st.history:
            who = f"{e.actor}（{e.actor_cert}）" if e.actor_cert else (e.actor or "")
            extra = "".join(f"；{escape(k)}：{escape(v)}" for k, v in self.services.lifecycle.details_text(e.details))
            reason = f"<br><span style='color:#555'>{escape(e.reason)}</span>" if e.reason else ""
            lines.append(f"<p><b>{escape(format_local(e.at))}</b>　{escape(e.action_label)}　{escape(who)}"
                         f"{extra}{reason}</p>")
        self.history.setHtml("".join(lines))

    def take(self, action: ActionInfo) -> ActionDialog:
        dlg = ActionDialog(self.services, self.runner, self.officer, self.case_id, action, self)
        dlg.taken.connect(lambda ev: (self.message.setText(_("{action}: recorded.").format(action=ev.action_label)),
                                      self.refresh(), self.changed.emit()))
        dlg.open()
        return dlg


__all__ = ["ActionDialog", "CaseProcedureDialog"]


def _kit_today() -> QDate:
    """Today in the kit's zone (the laptop's clock may be set to another)."""
    d = local_today()
    return QDate(d.year, d.month, d.day)
