"""The administrator's pane: officers (add, roles, deactivate, unlock, reset password), the agency's
settings, number blocks (reserve, what is left — running out shown), devices and enrolment, and the
administration log. Every change goes through ``AdminService``, which checks the role and logs it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kit_app import roles as R
from kit_app.dto import OfficerInfo
from kit_app.i18n import N_, _
from kit_app.services.admin import AdminService, OfficerRow
from kit_app.timeutil import format_local, local_today
from ui.datefields import DatePicker
from ui.models import RowsModel
from ui.panes import Pane, _table
from ui.services import Services
from ui.tasks import TaskRunner, describe_error


def is_admin(officer: OfficerInfo) -> bool:
    return R.can(officer, "officers.manage")


def _roles_text(roles: tuple[str, ...]) -> str:
    return "、".join(_(R.ROLE_LABELS[r]) for r in roles)


class OfficersModel(RowsModel):
    columns = (
        (N_("Name"), lambda r: r.name),
        (N_("Certificate number"), lambda r: r.cert_no),
        (N_("Roles"), lambda r: _roles_text(r.roles)),
        (N_("Agency"), lambda r: r.agency or ""),
        (N_("Account"), lambda r: _("deactivated") if not r.active else (
            _("locked until {time}").format(time=format_local(r.locked_until)) if r.locked_until else _("active"))),
        (N_("Last login"), lambda r: format_local(r.last_login_at) if r.last_login_at else ""),
    )

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if role == Qt.ItemDataRole.ForegroundRole and row is not None and (not row.active or row.locked_until):
            return QColor("#8a8a8a") if not row.active else QColor("#b3261e")
        return super().data(index, role)


class BlocksModel(RowsModel):
    columns = (
        (N_("Document"), lambda b: b["title"]),
        (N_("Year"), lambda b: b["year"]),
        (N_("Numbers"), lambda b: f"{b['prefix']}〔{b['year']}〕{b['first']}–{b['last']}号"),
        (N_("Used"), lambda b: b["used"]),
        (N_("Left"), lambda b: b["left"]),
    )

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if role == Qt.ItemDataRole.ForegroundRole and row is not None and row["low"]:
            return QColor("#b3261e")
        return super().data(index, role)


class LogModel(RowsModel):
    columns = (
        (N_("Time"), lambda e: format_local(e.at, with_seconds=True)),
        (N_("Who"), lambda e: e.actor),
        (N_("What"), lambda e: e.action_label),
        (N_("Concerning"), lambda e: e.target),
    )


class AccessModel(RowsModel):
    columns = (
        (N_("Time"), lambda e: format_local(e.at, with_seconds=True)),
        (N_("Who"), lambda e: e.actor),
        (N_("What"), lambda e: e.action_label),
        (N_("Outcome"), lambda e: e.outcome_label),
        (N_("Concerning"), lambda e: e.target),
        (N_("Details"), lambda e: access_details(e.details)),
    )

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if role == Qt.ItemDataRole.ForegroundRole and row is not None and row.outcome != "ok":
            return QColor("#b3261e")
        return super().data(index, role)


_DETAIL_LABELS = {"message": N_("said"), "reason": N_("why"), "failed_in_a_row": N_("failed in a row"),
                  "locked_until": N_("locked until"), "events": N_("events"), "originals": N_("originals"),
                  "court_pack": N_("file"), "pages": N_("pages"), "printer": N_("printer")}
_REASONS = {"wrong password": N_("wrong password"), "unknown certificate number": N_("unknown certificate number"),
            "account disabled": N_("account disabled"), "account locked": N_("account locked")}


def access_details(details: dict[str, Any]) -> str:
    """The entry's details in the officer's words (no field names)."""
    from datetime import datetime

    parts = []
    for k, label in _DETAIL_LABELS.items():
        if k not in details:
            continue
        v = details[k]
        if k == "reason":
            v = _(_REASONS.get(str(v), str(v)))
        elif k == "locked_until":
            v = format_local(datetime.fromisoformat(str(v)))
        parts.append(f"{_(label)}: {v}")
    return "；".join(parts)


class OfficerDialog(QDialog):
    """A new officer (name, certificate number, roles, password), or one officer's roles, or a new
    password — the same form, showing what the change needs."""

    def __init__(self, parent: QWidget | None, *, title: str, name: bool, roles: tuple[str, ...] | None,
                 password: bool) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.name, self.cert = QLineEdit(), QLineEdit()
        self.name.setObjectName("officer_name")
        self.cert.setObjectName("officer_cert")
        if name:
            form.addRow(_("Name"), self.name)
            form.addRow(_("Certificate number"), self.cert)
        self.role_boxes: dict[str, QCheckBox] = {}
        if roles is not None:
            row = QHBoxLayout()
            for r in R.ROLES:
                box = QCheckBox(_(R.ROLE_LABELS[r]))
                box.setObjectName(f"role_{r}")
                box.setChecked(r in roles)
                self.role_boxes[r] = box
                row.addWidget(box)
            form.addRow(_("Roles"), row)
        self.password, self.again = QLineEdit(), QLineEdit()
        for w, obj in ((self.password, "officer_password"), (self.again, "officer_password_again")):
            w.setEchoMode(QLineEdit.EchoMode.Password)
            w.setObjectName(obj)
        if password:
            form.addRow(_("Password"), self.password)
            form.addRow(_("Password again"), self.again)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b3261e")
        self.error.setWordWrap(True)
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.wants_password = password

    def roles(self) -> list[str]:
        return [r for r, b in self.role_boxes.items() if b.isChecked()]

    def check(self) -> bool:
        if self.wants_password and self.password.text() != self.again.text():
            self.error.setText(_("The two passwords differ: type the same one twice."))
            return False
        return True


class AdminPane(Pane):
    show_devices = Signal()
    enrol_requested = Signal()

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, officer, parent)
        self.admin = AdminService(services.store)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._officers_tab(), _("Officers"))
        self.tabs.addTab(self._agency_tab(), _("Agency"))
        self.tabs.addTab(self._numbers_tab(), _("Number blocks"))
        self.tabs.addTab(self._kit_tab(), _("Devices and central server"))
        self.tabs.addTab(self._log_tab(), _("Administration log"))
        self.tabs.addTab(self._access_tab(), _("Access log"))
        self.message = QLabel()
        self.message.setObjectName("admin_message")
        self.message.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.message)
        self.refresh()

    # ---------------------------------------------------------------- tabs
    def _officers_tab(self) -> QWidget:
        self.officers = OfficersModel(self)
        self.officers_view = _table(self.officers)
        self.officers_view.setObjectName("admin_officers")
        for col, width in enumerate((120, 150, 200, 220, 180)):
            self.officers_view.setColumnWidth(col, width)
        self.add_btn = QPushButton(_("Add officer…"))
        self.add_btn.setObjectName("admin_add_officer")
        self.roles_btn = QPushButton(_("Roles…"))
        self.active_btn = QPushButton(_("Deactivate"))
        self.active_btn.setObjectName("admin_active")
        self.unlock_btn = QPushButton(_("Unlock"))
        self.password_btn = QPushButton(_("Reset password…"))
        self.add_btn.clicked.connect(self.add_officer)
        self.roles_btn.clicked.connect(self.change_roles)
        self.active_btn.clicked.connect(self.toggle_active)
        self.unlock_btn.clicked.connect(self.unlock)
        self.password_btn.clicked.connect(self.reset_password)
        self.officers_view.selectionModel().selectionChanged.connect(lambda *_a: self._officer_buttons())
        bar = QHBoxLayout()
        for b in (self.add_btn, self.roles_btn, self.active_btn, self.unlock_btn, self.password_btn):
            bar.addWidget(b)
        bar.addStretch(1)
        w = QWidget()
        v = QVBoxLayout(w)
        v.addLayout(bar)
        v.addWidget(self.officers_view, 1)
        self._officer_buttons()
        return w

    def _agency_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.agency_pick = QComboBox()
        self.agency_pick.setObjectName("agency_pick")
        self.agency_pick.currentIndexChanged.connect(lambda _i: self._load_agency())
        form.addRow(_("Agency"), self.agency_pick)
        self.agency_fields = {k: QLineEdit() for k in ("name", "review_body", "court", "seal_text")}
        labels = {"name": _("Agency name"), "review_body": _("Review body (复议机关)"), "court": _("Court (管辖法院)"),
                  "seal_text": _("Seal text")}
        hints = {"review_body": _("Empty: derived from the agency's division"),
                 "court": _("Printed on decisions as the court of jurisdiction; empty: the officer is asked"),
                 "seal_text": _("The words printed where the seal is pressed; empty: the agency's name")}
        for key, edit in self.agency_fields.items():
            edit.setObjectName(f"agency_{key}")
            edit.setPlaceholderText(hints.get(key, ""))
            form.addRow(labels[key], edit)
        self.agency_save = QPushButton(_("Save the agency's settings"))
        self.agency_save.setObjectName("agency_save")
        self.agency_save.clicked.connect(self.save_agency)
        note = QLabel(_("Settings made on the central server come to the kit with the next sync and replace "
                        "these."))
        note.setWordWrap(True)
        form.addRow(self.agency_save)
        form.addRow(note)
        return w

    def _numbers_tab(self) -> QWidget:
        self.blocks = BlocksModel(self)
        self.blocks_view = _table(self.blocks)
        self.blocks_view.setObjectName("admin_blocks")
        for col, width in enumerate((240, 60, 260, 70)):
            self.blocks_view.setColumnWidth(col, width)
        self.block_btn = QPushButton(_("Reserve numbers…"))
        self.block_btn.setObjectName("admin_add_block")
        self.block_btn.setEnabled(R.can(self.officer, "numbers.assign"))
        self.block_btn.clicked.connect(self.add_block)
        self.low = QLabel()
        self.low.setObjectName("admin_numbers_low")
        self.low.setStyleSheet("color: #b3261e")
        self.low.setWordWrap(True)
        w = QWidget()
        v = QVBoxLayout(w)
        bar = QHBoxLayout()
        bar.addWidget(self.block_btn)
        bar.addWidget(self.low, 1)
        v.addLayout(bar)
        v.addWidget(self.blocks_view, 1)
        return w

    def _kit_tab(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        devices = QPushButton(_("Device configuration…"))
        devices.clicked.connect(self.show_devices)
        enrol = QPushButton(_("Enrol with the central server…"))
        enrol.clicked.connect(self.enrol_requested)
        for b, text in ((devices, _("Cameras, instruments and GPS receivers of this kit: add, change, remove (each "
                                    "change is logged).")),
                        (enrol, _("Join the provincial central server with the code and fingerprint its "
                                  "administrator gives (logged)."))):
            row = QHBoxLayout()
            row.addWidget(b)
            label = QLabel(text)
            label.setWordWrap(True)
            row.addWidget(label, 1)
            v.addLayout(row)
        v.addStretch(1)
        return w

    def _log_tab(self) -> QWidget:
        self.log = LogModel(self)
        self.log_view = _table(self.log)
        self.log_view.setObjectName("admin_log")
        for col, width in enumerate((170, 200, 200)):
            self.log_view.setColumnWidth(col, width)
        return self.log_view

    def _access_tab(self) -> QWidget:
        from kit_app.services.audit import ACTIONS, OUTCOMES

        w = QWidget()
        v = QVBoxLayout(w)
        row = QHBoxLayout()
        self.access_kind = QComboBox()
        self.access_kind.setObjectName("access_kind")
        self.access_kind.addItem(_("Everything"), None)
        for key, label in ACTIONS.items():
            self.access_kind.addItem(_(label), key)
        self.access_outcome = QComboBox()
        self.access_outcome.setObjectName("access_outcome")
        self.access_outcome.addItem(_("Any outcome"), None)
        for key, label in OUTCOMES.items():
            self.access_outcome.addItem(_(label), key)
        self.access_who = QLineEdit()
        self.access_who.setObjectName("access_who")
        self.access_who.setPlaceholderText(_("Name or certificate number"))
        self.access_since = DatePicker(with_time=False)
        self.access_since.setObjectName("access_since")
        self.access_until = DatePicker(with_time=False)
        self.access_until.setObjectName("access_until")
        for label, widget in ((_("What"), self.access_kind), (_("Outcome"), self.access_outcome),
                              (_("Who"), self.access_who), (_("Date from"), self.access_since),
                              (_("Date to"), self.access_until)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        show = QPushButton(_("Show"))
        show.setObjectName("access_show")
        show.clicked.connect(self.load_access)
        self.access_who.returnPressed.connect(self.load_access)
        self.access_kind.currentIndexChanged.connect(self.load_access)
        self.access_outcome.currentIndexChanged.connect(self.load_access)
        row.addWidget(show)
        row.addStretch(1)
        v.addLayout(row)
        self.access = AccessModel(self)
        self.access_view = _table(self.access)
        self.access_view.setObjectName("access_log")
        for col, width in enumerate((160, 170, 140, 70, 150)):
            self.access_view.setColumnWidth(col, width)
        v.addWidget(self.access_view, 1)
        self.access_count = QLabel()
        self.access_count.setObjectName("access_count")
        v.addWidget(self.access_count)
        return w

    def load_access(self) -> None:
        from datetime import date, datetime, time, timedelta

        from kit_app.services.audit import AuditService
        from kit_app.timeutil import LOCAL_TZ

        since, until = self.access_since.value(), self.access_until.value()
        start = datetime.combine(date.fromisoformat(since), time(), LOCAL_TZ) if since else None
        end = datetime.combine(date.fromisoformat(until) + timedelta(days=1), time(), LOCAL_TZ) if until else None
        kind, outcome, who = self.access_kind.currentData(), self.access_outcome.currentData(), self.access_who.text()
        audit = AuditService(self.services.store)

        def shown(rows: list[Any]) -> None:
            self.access.set_rows(rows)
            self.access_count.setText(_("{n} entries.").format(n=len(rows)))

        self.runner.run(lambda: audit.query(self.officer, action=kind, outcome=outcome, who=who, since=start,
                                            until=end), shown, self.fail)

    # ---------------------------------------------------------------- loading
    def refresh(self) -> None:
        def load() -> tuple[Any, ...]:
            import forms

            titles = {d.id: d.title for d in forms.definitions().values()}
            blocks = [b | {"title": titles.get(b["type"], b["type"])} for b in self.admin.blocks()]
            return self.admin.officer_rows(), self.admin.agencies(self.officer), blocks, self.admin.history()

        self.runner.run(load, self._loaded, self.fail)
        self.load_access()

    def _loaded(self, got: tuple[Any, ...]) -> None:
        officers, agencies, blocks, log = got
        current = self._officer()
        self.officers.set_rows(officers)
        if current is not None:
            again = next((i for i, o in enumerate(officers) if o.id == current.id), None)
            if again is not None:
                self.officers_view.selectRow(again)
        self._officer_buttons()
        chosen = self.agency_pick.currentData() or self.officer.agency_code
        self.agency_pick.blockSignals(True)
        self.agency_pick.clear()
        for code, name in agencies:
            self.agency_pick.addItem(f"{name}（{code}）", code)
        self.agency_pick.setCurrentIndex(max(0, self.agency_pick.findData(chosen)))
        self.agency_pick.blockSignals(False)
        self._load_agency()
        self.blocks.set_rows(blocks)
        year = local_today().year
        low = [b for b in blocks if b["low"] and b["year"] >= year]
        self.low.setText(_("Running out: {what}. Reserve more numbers before they are used up.").format(
            what="；".join(f"{b['title']}（{_('{n} left').format(n=b['left'])}）" for b in low)) if low else "")
        self.log.set_rows(log)

    def _load_agency(self) -> None:
        code = self.agency_pick.currentData()
        for edit in self.agency_fields.values():
            edit.setEnabled(False)
        self.agency_save.setEnabled(False)
        if not code:
            return

        def shown(agency: dict[str, Any]) -> None:
            if self.agency_pick.currentData() != code:
                return
            for key, edit in self.agency_fields.items():
                edit.setText(agency.get(key) or "")
                edit.setEnabled(True)
            self.agency_save.setEnabled(True)

        self.runner.run(lambda: self.admin.agency(code), shown, self.fail)

    def _officer(self) -> OfficerRow | None:
        idx = self.officers_view.selectionModel().selectedRows()
        row: OfficerRow | None = self.officers.row_at(idx[0].row()) if idx else None
        return row

    def _officer_buttons(self) -> None:
        row = self._officer()
        for b in (self.roles_btn, self.active_btn, self.unlock_btn, self.password_btn):
            b.setEnabled(row is not None)
        self.unlock_btn.setEnabled(row is not None and row.locked_until is not None)
        self.active_btn.setText(_("Reactivate") if row is not None and not row.active else _("Deactivate"))

    # ---------------------------------------------------------------- changes
    def _do(self, work: Any, said: str, dialog: QDialog | None = None) -> None:
        def done(_r: object) -> None:
            if dialog is not None:
                dialog.accept()
            self.message.setText(said)
            self.status_message.emit(said)
            self.refresh()

        def failed(exc: BaseException) -> None:
            if dialog is not None and hasattr(dialog, "error"):
                dialog.error.setText(describe_error(exc))
            else:
                self.message.setText(describe_error(exc))

        self.runner.run(work, done, failed)

    def add_officer(self) -> OfficerDialog:
        dlg = OfficerDialog(self, title=_("Add officer"), name=True, roles=(R.OFFICER,), password=True)

        def ok() -> None:
            if dlg.check():
                name, cert, roles, pw = dlg.name.text(), dlg.cert.text(), dlg.roles(), dlg.password.text()
                self._do(lambda: self.admin.add_officer(self.officer, name=name, cert_no=cert, roles=roles,
                                                        password=pw),
                         _("{name} can now log in with certificate number {cert}.").format(name=name.strip(),
                                                                                           cert=cert.strip()), dlg)

        dlg.buttons.accepted.connect(ok)
        dlg.open()
        self.officer_dialog = dlg
        return dlg

    def change_roles(self) -> None:
        row = self._officer()
        if row is None:
            return
        dlg = OfficerDialog(self, title=_("Roles of {name}").format(name=row.name), name=False, roles=row.roles,
                            password=False)

        def ok() -> None:
            roles = dlg.roles()
            self._do(lambda: self.admin.set_roles(self.officer, row.id, roles),
                     _("Roles of {name}: {roles}").format(name=row.name, roles=_roles_text(tuple(roles))), dlg)

        dlg.buttons.accepted.connect(ok)
        dlg.open()
        self.officer_dialog = dlg

    def toggle_active(self) -> None:
        row = self._officer()
        if row is None:
            return
        active = not row.active
        self._do(lambda: self.admin.set_active(self.officer, row.id, active),
                 (_("{name} can log in again.") if active else _("{name} can no longer log in.")).format(
                     name=row.name))

    def unlock(self) -> None:
        row = self._officer()
        if row is not None:
            self._do(lambda: self.admin.unlock(self.officer, row.id), _("{name} is unlocked.").format(name=row.name))

    def reset_password(self) -> None:
        row = self._officer()
        if row is None:
            return
        dlg = OfficerDialog(self, title=_("New password for {name}").format(name=row.name), name=False, roles=None,
                            password=True)

        def ok() -> None:
            if dlg.check():
                pw = dlg.password.text()
                self._do(lambda: self.admin.reset_password(self.officer, row.id, pw),
                         _("The password of {name} is reset: hand it over in person.").format(name=row.name), dlg)

        dlg.buttons.accepted.connect(ok)
        dlg.open()
        self.officer_dialog = dlg

    def save_agency(self) -> None:
        code = self.agency_pick.currentData()
        if not code:
            return
        values = {k: e.text() for k, e in self.agency_fields.items()}
        self._do(lambda: self.admin.set_agency(self.officer, code, **values), _("The agency's settings are saved."))

    def add_block(self) -> QDialog:
        import forms

        dlg = QDialog(self)
        dlg.setWindowTitle(_("Reserve document numbers"))
        form = QFormLayout(dlg)
        kind = QComboBox()
        kind.setObjectName("block_type")
        for d in sorted((d for d in forms.definitions().values() if d.number), key=lambda d: d.title):
            kind.addItem(d.title, d.id)
        year = QSpinBox()
        year.setRange(2000, 2100)
        year.setValue(local_today().year)
        prefix = QLineEdit()
        prefix.setObjectName("block_prefix")
        prefix.setPlaceholderText(_("For example 南环罚告"))
        first, last = QSpinBox(), QSpinBox()
        for s, v in ((first, 1), (last, 100)):
            s.setRange(1, 999999)
            s.setValue(v)
        form.addRow(_("Document"), kind)
        form.addRow(_("Year"), year)
        form.addRow(_("Prefix"), prefix)
        form.addRow(_("First number"), first)
        form.addRow(_("Last number"), last)
        dlg.error = QLabel()  # type: ignore[attr-defined]
        dlg.error.setStyleSheet("color: #b3261e")  # type: ignore[attr-defined]
        dlg.error.setWordWrap(True)  # type: ignore[attr-defined]
        form.addRow(dlg.error)  # type: ignore[attr-defined]
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(dlg.reject)
        code = self.officer.agency_code or ""

        def ok() -> None:
            block = {"agency_code": code, "doc_type": kind.currentData(), "year": year.value(),
                     "prefix": prefix.text(), "first": first.value(), "last": last.value()}
            self._do(lambda: self.admin.add_block(self.officer, **block),
                     _("Numbers {first}–{last} reserved for {title}.").format(
                         first=block["first"], last=block["last"], title=kind.currentText()), dlg)

        buttons.accepted.connect(ok)
        form.addRow(buttons)
        dlg.kind, dlg.year, dlg.prefix, dlg.first, dlg.last, dlg.buttons = (  # type: ignore[attr-defined]
            kind, year, prefix, first, last, buttons)
        dlg.open()
        self.block_dialog = dlg
        return dlg

    def on_data_changed(self, what: str) -> None:
        if what in ("admin", "devices"):
            self.refresh()


__all__ = ["AdminPane", "is_admin"]
