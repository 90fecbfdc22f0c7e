"""Reading an enterprise's data logger (数采仪) into a case, and cross-checking it on the spot.

The officer names the logger's port (or TCP address) and the period; the kit reads it in a worker
(progress, cancel), keeps the whole exchange as evidence, shows the records, runs the checks
against the case's analyzer sessions and issues the cross-check record. Nothing here waits on the
GUI thread: the line in ``devices.logger``, the store in ``kit_app.services.monitoring``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from PySide6.QtCore import QDateTime, QModelIndex, QPersistentModelIndex, Qt, QTimeZone
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kit_app.dto import OfficerInfo
from kit_app.evidence.service import EvidenceService
from kit_app.i18n import N_, _, language, ngettext
from kit_app.timeutil import LOCAL_TZ
from ui.models import RowsModel
from ui.tasks import IO, TaskContext, TaskHandle, TaskRunner, describe_error

KINDS = (("minute", N_("Minute data")), ("hour", N_("Hourly data")), ("day", N_("Daily data")),
         ("state", N_("Running state")))
STATUS = {"fired": (N_("Suspicious"), "#b3261e"), "clear": (N_("Nothing found"), "#2e7d32"),
          "skipped": (N_("Not compared"), "#757575")}


class RecordsModel(RowsModel):
    """The logger's records as rows: time, pollutant, average, minimum, maximum, amount, flag (any
    flag but N in red)."""

    columns = tuple((label, itemgetter(i)) for i, label in enumerate(
        (N_("Time"), N_("Pollutant"), N_("Average"), N_("Minimum"), N_("Maximum"), N_("Amount"), N_("Flag"))))

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and index.column() == 6 \
                and self.rows[index.row()][6] not in (None, "N"):
            return QColor("#b3261e")
        return super().data(index, role)


def table_rows(decoded: dict[str, Any], kind: str) -> list[tuple[Any, ...]]:
    """One row per record and pollutant, in the officer's time zone."""
    from devices.hj212 import POLLUTANTS

    out = []
    for row in decoded.get(kind, []):
        when = datetime.fromisoformat(row["time"]).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
        for code, f in row["values"].items():
            name = POLLUTANTS.get(code, (code,))[0]
            out.append((when, f"{name}（{code}）", f.get("Avg", f.get("Rtd")), f.get("Min"), f.get("Max"),
                        f.get("Cou"), f.get("Flag")))
    return out


def _qt(t: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(t.timestamp()), QTimeZone(b"Asia/Shanghai"))


def _py(q: QDateTime) -> datetime:
    return datetime.fromtimestamp(q.toSecsSinceEpoch(), UTC)


class LoggerDialog(QDialog):
    """Read the data logger of the case's party, keep the exchange, compare, issue the record."""

    def __init__(self, ev: EvidenceService, runner: TaskRunner, officer: OfficerInfo, case_id: str,
                 case_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logger_dialog")
        self.setWindowTitle(_("Data logger — {case}").format(case=case_label))
        self.ev, self.runner, self.officer, self.case_id = ev, runner, officer, case_id
        self.task: TaskHandle | None = None
        self.decoded: dict[str, Any] = {}  # kind → the table's rows; "counts": kind → records
        self.resize(900, 680)

        # where the logger is
        self.serial = QRadioButton(_("Serial port"))
        self.tcp = QRadioButton(_("TCP"))
        self.serial.setChecked(True)
        self.port = QComboBox()
        self.port.setEditable(True)
        self.port.setObjectName("logger_port")
        self.address = QLineEdit()
        self.address.setObjectName("logger_tcp")
        self.address.setPlaceholderText("192.168.1.10:5000")
        self.baud = QComboBox()
        for b in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
            self.baud.addItem(str(b), b)
        self.baud.setCurrentText("9600")
        self.mn = QLineEdit()
        self.mn.setObjectName("logger_mn")
        self.mn.setPlaceholderText(_("on the logger's label or screen; empty: learnt from its uploads"))
        self.pw = QLineEdit("123456")
        self.pw.setObjectName("logger_pw")
        self.st = QComboBox()
        for label, code in ((_("Find out"), None), (_("31 flue gas"), "31"), (_("32 waste water"), "32")):
            self.st.addItem(label, code)
        conn = QFormLayout()
        conn.addRow(self.serial, self.port)
        conn.addRow(self.tcp, self.address)
        conn.addRow(_("Baud rate"), self.baud)
        conn.addRow(_("MN"), self.mn)
        conn.addRow(_("Password (PW)"), self.pw)
        conn.addRow(_("System"), self.st)
        box1 = QGroupBox(_("The logger"))
        box1.setLayout(conn)

        # what to read
        now = datetime.now(UTC)
        self.begin = QDateTimeEdit(_qt(now - timedelta(hours=24)))
        self.end = QDateTimeEdit(_qt(now))
        for w in (self.begin, self.end):
            w.setDisplayFormat("yyyy-MM-dd HH:mm")
            w.setCalendarPopup(True)
            w.dateTimeChanged.connect(self._estimate)
        self.kinds = {k: QCheckBox(_(label)) for k, label in KINDS}
        for k, cb in self.kinds.items():
            cb.setChecked(k in ("minute", "hour", "state"))
            cb.toggled.connect(self._estimate)
        kinds_row = QHBoxLayout()
        for cb in self.kinds.values():
            kinds_row.addWidget(cb)
        kinds_row.addStretch(1)
        self.estimate = QLabel()
        self.estimate.setObjectName("logger_estimate")
        self.estimate.setWordWrap(True)
        period = QFormLayout()
        period.addRow(_("Data from"), self.begin)
        period.addRow(_("Data until"), self.end)
        period.addRow(_("Read"), kinds_row)
        period.addRow("", self.estimate)
        self.present_row = QHBoxLayout()
        self.present_row.addWidget(QLabel(f"{officer.name}（{officer.cert_no}）"))
        period.addRow(_("Officers present"), self.present_row)
        box2 = QGroupBox(_("Period"))
        box2.setLayout(period)
        for radio in (self.serial, self.tcp):
            radio.toggled.connect(self._estimate)
        self.baud.currentIndexChanged.connect(self._estimate)

        self.read_btn = QPushButton(_("Read the logger"))
        self.read_btn.setObjectName("logger_read")
        self.read_btn.clicked.connect(self.read)
        self.cancel_btn = QPushButton(_("Stop"))
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self._cancel)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel()
        self.status.setObjectName("logger_status")
        self.status.setWordWrap(True)
        run_row = QHBoxLayout()
        run_row.addWidget(self.read_btn)
        run_row.addWidget(self.cancel_btn)
        run_row.addWidget(self.progress, 1)

        # what came: the records, and the checks
        self.kind = QComboBox()
        for k, label in KINDS:
            self.kind.addItem(_(label), k)
        self.kind.currentIndexChanged.connect(self._show_records)
        self.records = RecordsModel(self)
        self.table = QTableView()
        self.table.setObjectName("logger_records")
        self.table.setModel(self.records)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        records_page = QWidget()
        rl = QVBoxLayout(records_page)
        rl.addWidget(self.kind)
        rl.addWidget(self.table, 1)

        self.limits = QLineEdit()
        self.limits.setObjectName("logger_limits")
        self.limits.setPlaceholderText(_("the permit's limits, e.g. a21026=50; a21002=100"))
        self.check_btn = QPushButton(_("Compare"))
        self.check_btn.setObjectName("logger_check")
        self.check_btn.clicked.connect(self.check)
        self.issue_btn = QPushButton(_("Issue the cross-check record…"))
        self.issue_btn.setObjectName("logger_issue")
        self.issue_btn.clicked.connect(self.issue)
        self.issue_btn.setEnabled(False)
        self.results = QTableWidget(0, 3)  # seven checks: a row each
        self.results.setObjectName("logger_checks")
        self.results.setHorizontalHeaderLabels([_("Check"), _("Result"), _("What the data show")])
        self.results.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.results.setColumnWidth(0, 260)
        self.results.setColumnWidth(1, 110)
        self.results.setWordWrap(True)
        self.verdict = QLabel()
        self.verdict.setObjectName("logger_verdict")
        self.verdict.setWordWrap(True)
        check_row = QHBoxLayout()
        check_row.addWidget(QLabel(_("Limits")))
        check_row.addWidget(self.limits, 1)
        check_row.addWidget(self.check_btn)
        check_row.addWidget(self.issue_btn)
        checks_page = QWidget()
        cl = QVBoxLayout(checks_page)
        cl.addLayout(check_row)
        cl.addWidget(self.results, 1)
        cl.addWidget(self.verdict)
        self.tabs = QTabWidget()
        self.tabs.addTab(records_page, _("Records"))
        self.tabs.addTab(checks_page, _("Cross-check"))

        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(box1, 3)
        top.addWidget(box2, 2)
        lay.addLayout(top)
        lay.addLayout(run_row)
        lay.addWidget(self.status)
        lay.addWidget(self.tabs, 1)
        self.candidates: list[str] = []
        self.present: dict[str, tuple[QCheckBox, OfficerInfo]] = {}
        self._estimate()
        self._discover()
        self._base_data_mns()
        self._case_officers()

    # ---------------------------------------------------------------- reading
    def _discover(self) -> None:
        data_dir = self.ev.store.data_dir

        def work() -> tuple[list[str], dict[str, str] | None]:
            from serial.tools import list_ports

            from devices.demo import demo_logger

            return [p.device for p in list_ports.comports()], demo_logger(data_dir)

        def done(got: tuple[list[str], dict[str, str] | None]) -> None:
            ports, demo = got
            for p in ports:
                if self.port.findText(p) < 0:
                    self.port.addItem(p)
            if demo is not None:  # the demo's simulated logger, for training
                self.port.setEditText(demo["port"])
                self.mn.setText(demo["mn"])

        self.runner.run(work, done, lambda _exc: None, lane=IO)

    def _base_data_mns(self) -> None:
        from kit_app.services.monitoring import MonitoringService

        store, case_id = self.ev.store, self.case_id

        def done(got: tuple[list[str], str | None]) -> None:
            mns, pw = got
            self.candidates = mns
            if mns:
                self.mn.setPlaceholderText(_("from the base data: {mns}").format(mns=", ".join(mns)))
            if pw and self.pw.text() == "123456":
                self.pw.setText(pw)

        self.runner.run(lambda: MonitoringService(store).logger_access(case_id), done, lambda _exc: None)

    def _case_officers(self) -> None:
        """The case's other officers, present by default (two officers at least gather evidence)."""
        from kit_app.services.cases import CaseService
        from kit_app.services.officers import OfficerService

        store, case_id, me = self.ev.store, self.case_id, self.officer.id

        def work() -> list[OfficerInfo]:
            officers = OfficerService(store)
            return [officers.get(o.cert_no) for o in CaseService(store).get(case_id).officers if o.id != me]

        def done(others: list[OfficerInfo]) -> None:
            for o in others:
                cb = QCheckBox(f"{o.name}（{o.cert_no}）")
                cb.setChecked(True)
                self.present_row.addWidget(cb)
                self.present[o.id] = (cb, o)
            self.present_row.addStretch(1)

        self.runner.run(work, done, lambda _exc: None)

    def _chosen(self) -> list[str]:
        return [k for k, cb in self.kinds.items() if cb.isChecked()]

    def _estimate(self) -> None:
        from devices.logger import estimate_seconds

        secs = estimate_seconds(self._chosen(), _py(self.begin.dateTime()), _py(self.end.dateTime()),
                                None if self.tcp.isChecked() else int(self.baud.currentData()))
        if secs is None:
            self.estimate.setText(_("Over TCP: seconds."))
        else:
            self.estimate.setText(_("At {baud} baud this takes about {minutes} min: the line's own speed.").format(
                baud=self.baud.currentData(), minutes=max(1, round(secs / 60))))

    def read(self) -> None:
        from devices.logger import LoggerError, endpoint_url, read_logger

        kinds = self._chosen()
        begin, end = _py(self.begin.dateTime()), _py(self.end.dateTime())
        try:
            if begin >= end:
                raise LoggerError(_("The period's start must come before its end."))
            if not kinds:
                raise LoggerError(_("Choose what to read."))
            url = endpoint_url(None if self.tcp.isChecked() else self.port.currentText().strip(),
                               self.address.text().strip() if self.tcp.isChecked() else None)
        except LoggerError as exc:
            self.status.setText(str(exc))
            return
        baud = int(self.baud.currentData())
        steps = ["listen", "clock", *kinds]
        mn, pw, st = self.mn.text().strip() or None, self.pw.text().strip() or "123456", self.st.currentData()
        candidates = [] if mn else list(self.candidates)

        def work(ctx: TaskContext) -> tuple[Any, dict[str, Any], dict[str, Any]]:
            from devices.logger import decode

            state = {"step": 0}

            def progress(_text: str) -> None:
                state["step"] += 1
                ctx.report(state["step"], len(steps))

            exchange, summary = read_logger(url, kinds, begin, end, baud=baud, mn=mn, pw=pw, st=st,
                                            progress=progress, stop=lambda: ctx.cancelled, candidates=candidates)
            entries = [e.record() for e in exchange.entries]
            decoded = decode(entries)  # and the table's rows, here: a month of minutes is 200,000 rows
            return entries, summary, {k: table_rows(decoded, k) for k, _label in KINDS} | {
                "counts": {k: len(decoded.get(k, [])) for k, _label in KINDS}}

        self._busy(True, _("Reading the logger…"))
        self.task = self.runner.run(work, lambda got: self._read(got, url, baud, begin, end), self._failed,
                                    on_progress=self._progress, with_context=True, lane=IO)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.status.setText(_("Stopping… what was read so far is kept."))

    def _busy(self, busy: bool, text: str = "") -> None:
        for w in (self.read_btn, self.check_btn):
            w.setEnabled(not busy)
        self.cancel_btn.setEnabled(busy)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)
        if text:
            self.status.setText(text)

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self.status.setText(describe_error(exc))

    def _read(self, got: tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]], url: str, baud: int,
              begin: datetime, end: datetime) -> None:
        entries, summary, decoded = got
        self.decoded = decoded
        self._show_records()
        if not any(e["type"] == "rx" for e in entries):
            self._busy(False)
            self.status.setText(summary.get("error") or _("The logger sent nothing."))
            return
        tcp = url.startswith("socket://")

        others = [o for cb, o in self.present.values() if cb.isChecked()]

        def keep() -> Any:
            return self.ev.add_logger_exchange(self.case_id, self.officer, entries, summary,
                                               endpoint=url.removeprefix("socket://"), baud=None if tcp else baud,
                                               period=(begin, end), others=others)

        def kept(res: Any) -> None:
            self._busy(False)
            clock = summary.get("clock") or {}
            counts = ", ".join(f"{_(label)} {decoded['counts'][k]}" for k, label in KINDS if decoded["counts"][k])
            text = _("Logger {mn}: {counts}; its clock {off:+.1f} s against the kit's. Kept as evidence.").format(
                mn=summary.get("mn") or "?", counts=counts or _("no records"), off=float(clock.get("offset_s") or 0))
            if summary.get("error"):
                text += " " + _("The reading ended early: {error}").format(error=summary["error"])
            self.status.setText(text)
            self.tabs.setCurrentIndex(0)

        self.runner.run(keep, kept, self._failed)

    def _show_records(self) -> None:
        self.records.set_rows(self.decoded.get(self.kind.currentData(), []))

    # ---------------------------------------------------------------- comparing
    def _limits(self) -> dict[str, float]:
        out = {}
        for part in self.limits.text().replace("；", ";").replace(",", ";").split(";"):
            code, eq, value = part.partition("=")
            if not part.strip():
                continue
            try:
                out[code.strip()] = float(value)
            except ValueError:
                raise ValueError(_("Write each limit as code=value, e.g. a21026=50 ({part}).").format(
                    part=part.strip())) from None
            if not eq:
                raise ValueError(_("Write each limit as code=value, e.g. a21026=50 ({part}).").format(part=part))
        return out

    def check(self) -> None:
        from kit_app.services.monitoring import MonitoringService

        try:
            limits = self._limits()
        except ValueError as exc:
            self.verdict.setText(str(exc))
            return
        store = self.ev.store
        self._busy(True, _("Comparing…"))
        self.runner.run(lambda: MonitoringService(store).check(self.case_id, limits), self._checked, self._failed)

    def _checked(self, res: dict[str, Any]) -> None:
        from forms.inspection import catalogue

        n = len(res["analyzer_sessions"])
        said = ngettext("Compared the logger's record with {n} analyzer session of the case.",
                        "Compared the logger's record with {n} analyzer sessions of the case.", n)
        self._busy(False, said.format(n=n))
        self.results.setRowCount(len(res["checks"]))
        for row, c in enumerate(res["checks"]):
            label, colour = STATUS[c["status"]]
            self.results.setItem(row, 0, QTableWidgetItem(c["title"] if language() == "zh_CN" else c["title_en"]))
            status = QTableWidgetItem(_(label))
            status.setForeground(QColor(colour))
            self.results.setItem(row, 1, status)
            self.results.setItem(row, 2, QTableWidgetItem(c["summary"]))
        self.results.resizeRowsToContents()
        v = catalogue().violations.get(res.get("violation") or "")
        if v is not None:
            title = v.title if language() == "zh_CN" else v.title_en
            self.verdict.setText(_("Suspected: {title} ({breaches}).").format(title=title, breaches=v.breaches))
            self.verdict.setStyleSheet("color: #b3261e; font-weight: bold;")
        else:
            self.verdict.setText(_("Nothing suspicious in the logger's data."))
            self.verdict.setStyleSheet("color: #2e7d32;")
        self.issue_btn.setEnabled(True)
        self.tabs.setCurrentIndex(1)

    def issue(self) -> None:
        from kit_app.services.crosscheck import CrossCheckService

        place, ok = QInputDialog.getText(self, _("Cross-check record"),
                                         _("The monitoring point (as printed), e.g. 1# boiler flue gas outlet:"))
        if not ok or not place.strip():
            return
        try:
            limits = self._limits()
        except ValueError as exc:
            self.verdict.setText(str(exc))
            return
        store, officer = self.ev.store, self.officer
        self._busy(True, _("Issuing the record…"))

        def done(out: dict[str, Any]) -> None:
            self._busy(False)
            text = _("The cross-check record is issued and kept with the case's documents.")
            if out.get("finding_id"):
                text += " " + _("The suspicion is recorded as a finding of the inspection.")
            self.status.setText(text)

        self.runner.run(lambda: CrossCheckService(store).issue_record(self.case_id, officer, limits=limits,
                                                                      place=place.strip()), done, self._failed)
