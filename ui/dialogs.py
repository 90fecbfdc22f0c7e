"""Dialogs: they gather input and call core services through the task runner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kit_app import creditcode
from kit_app import roles as R
from kit_app.dto import CaseDetail, ImportResult, OfficerInfo, ProjectRow, SourceRow
from kit_app.i18n import LANGUAGES, _
from kit_app.timeutil import local_today
from ui.services import Services
from ui.tasks import TaskRunner, describe_error

LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}


def _error_label() -> QLabel:
    label = QLabel()
    label.setObjectName("error")
    label.setWordWrap(True)
    label.setStyleSheet("color: #b3261e;")
    label.hide()
    return label


class TaskDialog(QDialog):
    """A dialog whose OK runs a core service in the worker: buttons disabled meanwhile, the error
    shown in the dialog if it fails, ``done`` called with the result if it succeeds."""

    buttons: QDialogButtonBox
    error: QLabel
    runner: TaskRunner

    def submit_task(self, fn: Callable[[], object], done: Callable[[Any], None]) -> None:
        self.buttons.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.buttons.setEnabled(True)
            self.show_error(describe_error(exc))

        self.runner.run(fn, done, failed)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def lay_out(self, *parts: QWidget | QLayout, on_ok: Callable[[], None]) -> None:
        """The usual body: ``parts`` top to bottom, then the error line and OK / Cancel."""
        self.error = _error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(on_ok)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        for part in parts:
            if isinstance(part, QLayout):
                lay.addLayout(part)
            else:
                lay.addWidget(part)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)


class LoginDialog(TaskDialog):
    """Offline login by enforcement certificate number and password."""

    logged_in = Signal(object)  # OfficerInfo
    language_changed = Signal(str)

    def __init__(self, services: Services | None, runner: TaskRunner, language: str, demo: bool = False,
                 parent: QWidget | None = None, login: Callable[[str, str], OfficerInfo] | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        # how a sign-in is checked: the officers' service, or (a locked, encrypted kit) unlocking first
        self._login = login if login is not None else services.officers.login  # type: ignore[union-attr]
        self.officer: OfficerInfo | None = None
        self.cert = QLineEdit()
        self.cert.setObjectName("cert")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.lang = QComboBox()
        self.lang.setObjectName("language")
        for code in LANGUAGES:
            self.lang.addItem(LANGUAGE_NAMES[code], code)
        self.lang.setCurrentIndex(LANGUAGES.index(language))
        self.lang.currentIndexChanged.connect(lambda i: self.language_changed.emit(self.lang.itemData(i)))
        self.error = _error_label()
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #555;")
        self.hint.setVisible(demo)
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        self.cert_label, self.password_label, self.lang_label = QLabel(), QLabel(), QLabel()
        self.form = QFormLayout()
        self.form.addRow(self.cert_label, self.cert)
        self.form.addRow(self.password_label, self.password)
        self.form.addRow(self.lang_label, self.lang)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addLayout(self.form)
        lay.addWidget(self.error)
        lay.addWidget(self.hint)
        lay.addWidget(self.buttons)
        self.setMinimumWidth(420)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(_("Log in — Enforcement Evidence Kit"))
        self.title.setText(_("Enforcement Evidence Kit"))
        self.cert_label.setText(_("Certificate number"))
        self.password_label.setText(_("Password"))
        self.lang_label.setText(_("Language"))
        self.cert.setPlaceholderText(_("Enforcement certificate number (执法证号)"))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Log in"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Quit"))
        from kit_app.services.demo import DEMO_OFFICERS, DEMO_PASSWORD

        self.hint.setText(
            _("Demo data: log in as {cert} ({name}) with the password {password}.").format(
                cert=DEMO_OFFICERS[1][1], name=DEMO_OFFICERS[1][0], password=DEMO_PASSWORD
            )
        )

    def _submit(self) -> None:
        cert, password = self.cert.text().strip(), self.password.text()
        if not cert or not password:
            self.show_error(_("Enter your certificate number and password."))
            return
        self.password.clear()
        self.submit_task(lambda: self._login(cert, password), self._ok)

    def _ok(self, officer: OfficerInfo) -> None:
        self.officer = officer
        self.logged_in.emit(officer)
        self.accept()


class FirstAdminDialog(TaskDialog):
    """On a new data dir with no officers: create the first administrator."""

    def __init__(self, services: Services | None, runner: TaskRunner, parent: QWidget | None = None,
                 create: Callable[[str, str, str], object] | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        # a new kit: its encrypted data dir is created with this administrator (``create``)
        self._create = create
        self.setWindowTitle(_("Create the first administrator"))
        self.name = QLineEdit(objectName="name")
        self.cert = QLineEdit(objectName="cert")
        self.pw1 = QLineEdit(objectName="password")
        self.pw2 = QLineEdit(objectName="password_again")
        for w in (self.pw1, self.pw2):
            w.setEchoMode(QLineEdit.EchoMode.Password)
        intro = QLabel(_("This data directory has no officers yet. Create the administrator who will "
                         "add the others."))
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow(_("Full name"), self.name)
        form.addRow(_("Certificate number"), self.cert)
        form.addRow(_("Password"), self.pw1)
        form.addRow(_("Repeat the password"), self.pw2)
        self.lay_out(intro, form, on_ok=self._submit)
        self.setMinimumWidth(420)

    def _submit(self) -> None:
        if self.pw1.text() != self.pw2.text():
            self.show_error(_("The two passwords differ."))
            return
        name, cert, pw = self.name.text(), self.cert.text(), self.pw1.text()
        if self._create is not None:
            create = self._create
            self.submit_task(lambda: create(name, cert, pw), lambda _o: self.accept())
            return
        assert self.services is not None
        services = self.services
        self.submit_task(
            lambda: services.officers.add(name=name, cert_no=cert, roles=["admin", "officer"], password=pw),
            lambda _o: self.accept(),
        )


class NewCaseDialog(TaskDialog):
    """Open a case for a listed pollution source or an unlisted party."""

    created = Signal(object)  # CaseDetail

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo,
                 source: SourceRow | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.officer = officer
        self.source = source
        self.setWindowTitle(_("New case"))
        self.setMinimumWidth(560)

        self.listed = QRadioButton(_("Pollution source in the database"))
        self.unlisted = QRadioButton(_("Party not in the database"))
        group = QButtonGroup(self)
        group.addButton(self.listed)
        group.addButton(self.unlisted)
        self.listed.setChecked(True)

        self.party_search = QLineEdit()
        self.party_search.setObjectName("party_search")
        self.party_search.setPlaceholderText(_("Name, credit code or pinyin initials"))
        self.party_list = QListWidget()
        self.party_list.setObjectName("party_list")
        self.party_list.setMaximumHeight(150)
        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self._search)
        self.party_search.textChanged.connect(lambda _t: self._search_timer.start())
        self.party_list.currentItemChanged.connect(lambda *_a: self._validate())

        self.party_name = QLineEdit()
        self.party_name.setObjectName("party_name")
        self.party_code = QLineEdit()
        self.party_code.setObjectName("party_code")
        self.party_address = QLineEdit()
        unl = QFormLayout()
        unl.addRow(_("Name"), self.party_name)
        unl.addRow(_("Credit code"), self.party_code)
        unl.addRow(_("Address"), self.party_address)
        self.unlisted_box = QWidget()
        self.unlisted_box.setLayout(unl)

        party_box = QGroupBox(_("Party"))
        pl = QVBoxLayout(party_box)
        pl.addWidget(self.listed)
        pl.addWidget(self.party_search)
        pl.addWidget(self.party_list)
        pl.addWidget(self.unlisted)
        pl.addWidget(self.unlisted_box)

        self.case_title = QLineEdit()
        self.case_title.setObjectName("case_title")
        self.case_title.setPlaceholderText(_("for example: 涉嫌超标排放水污染物"))
        self.others = QListWidget()
        self.others.setObjectName("co_officers")
        self.others.setMaximumHeight(110)
        self.discovered = QDateEdit(_kit_today())
        self.discovered.setObjectName("discovered_on")
        self.discovered.setCalendarPopup(True)
        self.discovered.setDisplayFormat("yyyy-MM-dd")
        self.discovered.setMaximumDate(_kit_today())
        self.discovered.setToolTip(_("The day the violation was found: the 15 days to decide on filing run from it"))
        form = QFormLayout()
        form.addRow(_("Case title"), self.case_title)
        form.addRow(_("Found on"), self.discovered)
        form.addRow(_("Lead officer"), QLabel(f"{officer.name}（{officer.cert_no}）"))
        form.addRow(_("Other officers"), self.others)

        self.lay_out(party_box, form, on_ok=self._submit)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Open the case"))

        for w in (self.case_title, self.party_name, self.party_code):
            w.textChanged.connect(lambda _t: self._validate())
        self.listed.toggled.connect(lambda _c: self._validate())
        if source is not None:
            self.party_search.setText(source.name)
            item = QListWidgetItem(f"{source.name}  {source.credit_code or ''}")
            item.setData(Qt.ItemDataRole.UserRole, source)
            self.party_list.addItem(item)
            self.party_list.setCurrentItem(item)
            self._search_timer.stop()
        self.runner.run(self.services.officers.list, self._fill_officers)
        self._validate()

    def _fill_officers(self, officers: list[OfficerInfo]) -> None:
        for o in officers:
            if o.id == self.officer.id or not o.active or R.OFFICER not in o.roles:
                continue
            item = QListWidgetItem(f"{o.name}（{o.cert_no}）")
            item.setData(Qt.ItemDataRole.UserRole, o.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.others.addItem(item)

    def _search(self) -> None:
        q = self.party_search.text()
        self.runner.run(lambda: [h.row for h in self.services.search.search(q, limit=20)], self._show_hits)

    def _show_hits(self, rows: list[SourceRow]) -> None:
        self.party_list.clear()
        for r in rows:
            item = QListWidgetItem(f"{r.name}  {r.credit_code or ''}  {r.county or ''}")
            item.setData(Qt.ItemDataRole.UserRole, r)
            self.party_list.addItem(item)
        if rows:
            self.party_list.setCurrentRow(0)
        self._validate()

    def problem(self) -> str | None:
        """What keeps the form from being submitted, or None."""
        if self.listed.isChecked():
            if self.party_list.currentItem() is None:
                return _("Choose the pollution source.")
        else:
            if not self.party_name.text().strip():
                return _("Enter the party's name.")
            code = creditcode.normalise(self.party_code.text())
            if code and (why := creditcode.validate(code)):
                return _("Credit code: {why}").format(why=why)
        if not self.case_title.text().strip():
            return _("Enter the case title.")
        return None

    def _validate(self) -> None:
        listed = self.listed.isChecked()
        self.party_search.setEnabled(listed)
        self.party_list.setEnabled(listed)
        self.unlisted_box.setEnabled(not listed)
        why = self.problem()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(why is None)
        touched = bool(self.case_title.text() or self.party_name.text() or self.party_code.text())
        if why and touched:
            self.error.setText(why)
            self.error.show()
        else:
            self.error.hide()

    def _submit(self) -> None:
        if self.problem():
            return
        others = [
            self.others.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.others.count())
            if self.others.item(i).checkState() == Qt.CheckState.Checked
        ]
        title = self.case_title.text()
        found = self.discovered.date()
        kwargs: dict[str, object] = dict(title=title, actor=self.officer, officer_ids=others,
                                         discovered_on=date(found.year(), found.month(), found.day()))
        if self.listed.isChecked():
            src: SourceRow = self.party_list.currentItem().data(Qt.ItemDataRole.UserRole)
            kwargs.update(party=src.name, source_id=src.id)
        else:
            kwargs.update(party=self.party_name.text(), party_credit_code=self.party_code.text() or None,
                          party_address=self.party_address.text() or None)
        self.submit_task(lambda: self.services.cases.create(**kwargs), self._done)  # type: ignore[arg-type]

    def _done(self, case: CaseDetail) -> None:
        self.created.emit(case)
        self.accept()


class AcceptanceDialog(TaskDialog):
    """Record a project's completion acceptance (竣工环保验收)."""

    recorded = Signal(object)  # (ProjectRow, source_id, created)

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo, project: ProjectRow,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.officer, self.project = services, runner, officer, project
        self.setWindowTitle(_("Record completion acceptance"))
        self.date = QDateEdit(_kit_today())
        self.date.setObjectName("acceptance_date")
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setMaximumDate(_kit_today())
        if project.eia_approval_date:
            d = project.eia_approval_date
            self.date.setMinimumDate(QDate(d.year, d.month, d.day))
        info = QLabel(_("{project}\nDeveloper: {developer}\nEIA approval: {no}").format(
            project=project.name, developer=project.developer or "-", no=project.eia_approval_no or "-"))
        info.setWordWrap(True)
        note = QLabel(_("The project becomes a pollution source under supervision: it is linked to the "
                        "developer's source, or a new source is created. The project and its history are kept."))
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        form = QFormLayout()
        form.addRow(_("Acceptance date"), self.date)
        self.lay_out(info, form, note, on_ok=self._submit)

    def _submit(self) -> None:
        d = self.date.date()
        when = date(d.year(), d.month(), d.day())
        def done(result: object) -> None:
            self.recorded.emit(result)
            self.accept()

        self.submit_task(lambda: self.services.projects.accept(self.project.id, when, actor=self.officer), done)


class ImportResultDialog(QDialog):
    """The outcome of an import: counts and every rejected row with its column and reason."""

    def __init__(self, result: ImportResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Import finished"))
        self.resize(720, 420)
        msg = _("{imported} imported, {updated} updated, {unchanged} unchanged, {rejected} rows rejected.")
        summary = QLabel(msg.format(
            imported=result.imported, updated=result.updated, unchanged=result.unchanged,
            rejected=len({r.row for r in result.rejected})))
        table = QTableWidget(len(result.rejected), 3)
        table.setHorizontalHeaderLabels([_("Row"), _("Column"), _("Reason")])
        for i, r in enumerate(result.rejected):
            for j, v in enumerate((str(r.row), r.column, r.reason)):
                table.setItem(i, j, QTableWidgetItem(v))
        table.verticalHeader().setVisible(False)
        table.setColumnWidth(0, 70)
        table.setColumnWidth(1, 180)
        table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setVisible(bool(result.rejected))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.accept)
        buttons.accepted.connect(self.accept)
        lay = QVBoxLayout(self)
        lay.addWidget(summary)
        lay.addWidget(table)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(buttons)
        lay.addLayout(row)


def _kit_today() -> QDate:
    """Today in the kit's zone (the laptop's clock may be set to another)."""
    d = local_today()
    return QDate(d.year, d.month, d.day)
