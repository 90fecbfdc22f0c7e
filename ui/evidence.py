"""The evidence of a case: a thumbnail grid, the selected item's metadata, warnings, place and
custody timeline; import of files and folders with progress and cancel; physical samples; custody
transfer; verification."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QFont, QGuiApplication, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kit_app import roles as R
from kit_app.dto import OfficerInfo
from kit_app.evidence import media
from kit_app.evidence.service import EvidenceService, IngestResult, VerifyReport
from kit_app.i18n import N_, _
from kit_app.services.lifecycle import accepts_evidence
from kit_app.storage import human
from kit_app.timeutil import format_local
from ui.deadlines import describe_status
from ui.dialogs import TaskDialog
from ui.models import image_of
from ui.plot import SeriesPlot
from ui.tasks import IO, TaskRunner, describe_error

Index = QModelIndex | QPersistentModelIndex
THUMB = 128

KIND_LABELS = {
    "photo": N_("Photo"), "video": N_("Video"), "audio": N_("Recording"), "document": N_("Document"),
    "instrument_reading": N_("Instrument reading"), "physical_sample": N_("Physical item"),
}
EVENT_LABELS = {
    "collected": N_("collected"), "imported": N_("imported"), "viewed": N_("viewed"),
    "exported": N_("exported"), "printed": N_("printed"), "transferred": N_("transferred"),
    "sealed": N_("sealed"), "unsealed": N_("unsealed"), "submitted_to_lab": N_("submitted to a laboratory"),
    "synced": N_("synced"), "annotated": N_("annotated"), "corrected": N_("corrected"), "issued": N_("issued"),
}
DISPOSITION_LABELS = {"explained": N_("warnings explained"), "kept": N_("kept as it is"),
                      "excluded": N_("excluded from the evidence"), "included": N_("used as evidence again")}
_KIND_COLORS = {"photo": "#5b8def", "video": "#c0504d", "audio": "#9bbb59", "document": "#8064a2",
                "instrument_reading": "#4bacc6", "physical_sample": "#f79646"}


def _placeholder(kind: str) -> QIcon:
    pm = QPixmap(THUMB, THUMB)
    pm.fill(QColor("#eeeeee"))
    p = QPainter(pm)
    p.setPen(QColor(_KIND_COLORS.get(kind, "#888888")))
    f = p.font()
    f.setPointSize(14)
    p.setFont(f)
    p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, _(KIND_LABELS.get(kind, kind)))
    p.end()
    return QIcon(pm)


class EvidenceModel(QAbstractListModel):
    """Items of one case (dicts from the service); thumbnails are read off the GUI thread on demand."""

    def __init__(self, runner: TaskRunner, thumb_bytes: Any, parent: Any = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.thumb_bytes = thumb_bytes  # sha256 -> the thumbnail's JPEG bytes (decrypted) or None
        self.items: list[dict[str, Any]] = []
        self._icons: dict[str, QIcon] = {}
        self._asked: set[str] = set()
        self._placeholders: dict[str, QIcon] = {}

    def set_items(self, items: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.items = items
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self.items)):
            return None
        it = self.items[index.row()]
        state = it.get("disposition") or {}
        if role == Qt.ItemDataRole.DisplayRole:
            return grid_label(it)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = "\n".join(x for x in (it["description"], it["original_name"] or it["seal_no"]) if x)
            if state.get("excluded"):
                tip += "\n" + _("Excluded from the case's evidence: {why}").format(why=state["note"])
            return tip
        if role == Qt.ItemDataRole.DecorationRole:
            sha = it["sha256"]
            if sha and sha in self._icons:
                return self._icons[sha]
            if sha and it["kind"] in ("photo", "video") and sha not in self._asked:
                self._asked.add(sha)
                self.runner.run(lambda s=sha: image_of(self.thumb_bytes(s)), lambda img, s=sha: self._loaded(s, img),
                                lane=IO)
            if it["kind"] not in self._placeholders:
                self._placeholders[it["kind"]] = _placeholder(it["kind"])
            return self._placeholders[it["kind"]]
        if role == Qt.ItemDataRole.ForegroundRole:
            if state.get("excluded"):
                return QColor("#8a8a8a")
            if it["warnings"] and state.get("action") not in ("explained", "kept"):
                return QColor("#b3261e")  # warnings nobody has answered yet
            return None
        if role == Qt.ItemDataRole.FontRole and state.get("excluded"):
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.UserRole:
            return it
        return None

    def _loaded(self, sha: str, img: QImage) -> None:
        if img.isNull():
            return
        # centred in a square: every cell the same, so no label is pushed out of its cell
        square = QPixmap(THUMB, THUMB)
        square.fill(Qt.GlobalColor.transparent)
        scaled = QPixmap.fromImage(img).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation)
        p = QPainter(square)
        p.drawPixmap((THUMB - scaled.width()) // 2, (THUMB - scaled.height()) // 2, scaled)
        p.end()
        self._icons[sha] = QIcon(square)
        for row, it in enumerate(self.items):
            if it["sha256"] == sha:
                idx = self.index(row)
                self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])


def grid_label(it: dict[str, Any], width: int = 20) -> str:
    """Under a thumbnail: the caption if there is one, else the name; a long one shortened in the
    middle, keeping its end (what tells ``IMG-…-093000-2.jpg`` from ``IMG-…-093000-3.jpg``)."""
    text = it["description"] or it["original_name"] or it["seal_no"] or ""
    if len(text) <= width:
        return str(text)
    tail = width * 2 // 3
    return f"{text[:width - tail - 1]}…{text[-tail:]}"


def _e(v: object) -> str:
    return html.escape("" if v is None else str(v))


def describe_item(it: dict[str, Any]) -> str:
    """The detail pane's HTML for one item."""
    rows: list[tuple[str, str]] = [(_("Kind"), _(KIND_LABELS.get(it["kind"], it["kind"])))]
    if it["original_name"]:
        rows.append((_("File"), it["original_name"]))
    if it["size"] is not None:
        rows.append((_("Size"), f"{it['size']:,} B"))
    if it["sha256"]:
        rows.append(("SHA-256", it["sha256"]))
    if it["seal_no"]:
        rows.append((_("Seal number"), it["seal_no"]))
    if it["description"]:
        rows.append((_("Caption") if it["kind"] in ("photo", "video") else _("Description"), it["description"]))
    if it["captured_at"]:
        cap = format_local(datetime.fromisoformat(it["captured_at"]), with_seconds=True)
        clock = {"camera": _("(camera clock)"), "gnss": _("(GPS time)"),
                 "file": _("(the file's modification time)")}.get(it["captured_clock"] or "")
        rows.append((_("Captured"), cap + (" " + clock if clock else "")))
    if it["latitude"] is not None:
        loc = f"{it['latitude']:.6f}, {it['longitude']:.6f}"
        if it["altitude"] is not None:
            loc += f", {it['altitude']:.1f} m"
        rows.append((_("Location"), loc))
    elif it["place"]:
        rows.append((_("Location"), it["place"]))
    if it["device"]:
        rows.append((_("Device"), it["device"]))
    logger = (it.get("metadata") or {}).get("logger")
    if logger:  # a data logger read on site: its clock, and what each request brought
        clock = logger.get("clock") or {}
        if clock:
            rows.append((_("Logger's clock"), _("{off:+.1f} s against the kit's (± {unc:.1f} s)").format(
                off=float(clock["offset_s"]), unc=float(clock["uncertainty_s"]))))
        for r in logger.get("requests") or []:
            rows.append((f"HJ 212 CN={r.get('cn')}", r.get("error") or _("{n} packets, ended {code}").format(
                n=r.get("packets", 0), code=r.get("exe_rtn") or _("without an end"))))
    rows.append((_("Collected by"), "、".join(f"{o['name']}（{o['cert_no']}）" for o in it["officers"])))
    rows.append((_("Imported"), format_local(datetime.fromisoformat(it["imported_at"]))))
    table = "".join(f"<tr><td style='color:#666;padding-right:10px;white-space:nowrap'>{_e(k)}</td>"
                    f"<td>{_e(v)}</td></tr>" for k, v in rows)
    warn = ""
    state = it.get("disposition") or {}
    answered = state.get("action") in ("explained", "kept")
    if it["warnings"]:
        colour = "#6b5a00" if answered else "#b3261e"
        warn = f"<ul style='color:{colour}'>" + "".join(f"<li>{_e(w)}</li>" for w in it["warnings"]) + "</ul>"
    if state:
        when = format_local(datetime.fromisoformat(state["at"])) if state.get("at") else ""
        said = {"explained": _("Warnings explained by {who}, {when}: {note}"),
                "kept": _("Kept as it is by {who}, {when}, the warnings seen"),
                "excluded": _("Excluded from the case's evidence by {who}, {when}: {note} — kept in custody, "
                              "not listed or printed as evidence"),
                "included": _("Used as evidence again by {who}, {when}: {note}")}[state["action"]]
        text = said.format(who=state.get("by") or "", when=when, note=state.get("note") or "")
        if state["action"] == "kept" and state.get("note"):
            text += f"：{state['note']}"
        colour = "#8a8a8a" if state.get("excluded") else "#1f5f1f"
        warn += f"<p style='color:{colour}'><b>{_e(text)}</b></p>"
    timeline = ""
    for ev in it.get("custody", []):
        who = "、".join(a["name"] for a in ev["actors"])
        extra = ev["reason"] or ""
        if ev["kind"] == "transferred":
            extra = _("from {a} to {b}").format(a=ev["details"]["from"]["name"], b=ev["details"]["to"]["name"]) + (
                f"：{ev['reason']}" if ev["reason"] else "")
        if ev["details"].get("disposition") in DISPOSITION_LABELS:
            extra = _(DISPOSITION_LABELS[ev["details"]["disposition"]]) + (f"：{ev['reason']}" if ev["reason"] else "")
        elif "caption" in ev["details"]:
            extra = _("caption: {text}").format(text=ev["details"]["caption"] or _("(none)"))
        if ev["details"].get("seal_no"):
            extra = (extra + " " if extra else "") + _("seal {no}").format(no=ev["details"]["seal_no"])
        timeline += (f"<tr><td style='white-space:nowrap;color:#666'>#{ev['seq']}</td>"
                     f"<td style='white-space:nowrap'>{_e(format_local(datetime.fromisoformat(ev['at']), True))}</td>"
                     f"<td>{_e(_(EVENT_LABELS.get(ev['kind'], ev['kind'])))}</td><td>{_e(who)}</td>"
                     f"<td>{_e(extra)}</td></tr>")
    title = _("Chain of custody")
    return (f"<table cellpadding='2'>{table}</table>{warn}"
            f"<h3>{_e(title)}</h3><table cellpadding='3'>{timeline}</table>")


class PhysicalItemDialog(TaskDialog):
    recorded = Signal(str)

    def __init__(self, ev: EvidenceService, runner: TaskRunner, officer: OfficerInfo, case_id: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.setWindowTitle(_("Record a physical item"))
        self.seal = QLineEdit()
        self.seal.setObjectName("seal")
        self.description = QLineEdit()
        self.description.setObjectName("description")
        self.description.setPlaceholderText(_("for example: 废水样品 500 mL × 2 瓶"))
        self.place = QLineEdit()
        form = QFormLayout()
        form.addRow(_("Seal number"), self.seal)
        form.addRow(_("Description"), self.description)
        form.addRow(_("Place"), self.place)

        def submit() -> None:
            seal, desc, place = self.seal.text(), self.description.text(), self.place.text() or None
            self.submit_task(lambda: ev.add_physical(case_id, officer, seal_no=seal, description=desc, place=place),
                             lambda eid: (self.recorded.emit(eid), self.accept()))

        self.lay_out(form, on_ok=submit)


class TransferDialog(TaskDialog):
    transferred = Signal(object)

    def __init__(self, ev: EvidenceService, runner: TaskRunner, officer: OfficerInfo, item: dict[str, Any],
                 officers: list[OfficerInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.setWindowTitle(_("Transfer custody"))
        self.to = QComboBox()
        self.to.setObjectName("to_officer")
        for o in officers:
            if o.id != officer.id and o.active:
                self.to.addItem(f"{o.name}（{o.cert_no}）", o)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText(_("for example: 移交送检"))
        form = QFormLayout()
        form.addRow(_("Item"), QLabel(item["original_name"] or item["seal_no"] or item["id"]))
        form.addRow(_("From"), QLabel(f"{officer.name}（{officer.cert_no}）"))
        form.addRow(_("To"), self.to)
        form.addRow(_("Reason"), self.reason)

        def submit() -> None:
            to, reason = self.to.currentData(), self.reason.text()
            if to is None:
                self.show_error(_("There is no other officer to hand the item to."))
                return
            self.submit_task(lambda: ev.transfer(item["id"], officer, to, reason),
                             lambda body: (self.transferred.emit(body), self.accept()))

        self.lay_out(form, on_ok=submit)


def describe_overview(o: dict[str, Any]) -> str:
    from html import escape

    from kit_app.timeutil import format_local

    st = o["sync"]
    if st is None:
        state = _("Local only (this kit is not enrolled)")
    elif st["synced"]:
        state = _("Synced: the server has receipted all of it")
    else:
        state = _("waiting for the server: {records} records, {events} custody events, {originals} originals").format(
            records=st["records"], events=st["custody_events"], originals=st["originals"])
    label = escape(_("Sync"))
    parts = [describe_status(o["procedure"])] if o.get("procedure") else []
    parts.append(f"<p><b>{label}:</b> {escape(state)}</p>")
    a = o["assignment"]
    if a:
        note = "<br>" + escape(a["note"]) if a.get("note") else ""
        label = escape(_("Assigned by the central server"))
        parts.append(f"<p><b>{label}</b>{note}</p>")
    if o["comments"]:
        label = escape(_("Review comments"))
        parts.append(f"<p><b>{label}</b></p><ul>")
        for c in o["comments"]:
            parts.append(f"<li>{escape(format_local(c['at']))} {escape(c['author_name'])}：{escape(c['text'])}</li>")
        parts.append("</ul>")
    return "".join(parts)


class EvidencePanel(QWidget):
    """Evidence of the case selected in the cases pane."""

    status_message = Signal(str)
    imported = Signal(list)  # IngestResult list, when an import ends
    case_changed = Signal(object)  # the case shown (id or None)

    def __init__(self, ev: EvidenceService, runner: TaskRunner, officer: OfficerInfo,
                 officers_list: Any, overview: Callable[[str], dict[str, Any]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ev = ev
        self.overview = overview  # the case's sync state, assignment and comments (CaseService.overview)
        self.runner = runner
        self.officer = officer
        self.officers_list = officers_list
        self.case_id: str | None = None
        self.case_label = ""
        self.model = EvidenceModel(runner, ev.blobs.thumb_bytes, self)
        self.view = QListView()
        self.view.setObjectName("evidence_grid")
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setIconSize(QSize(THUMB, THUMB))
        self.view.setGridSize(QSize(THUMB + 28, THUMB + 36))
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setModel(self.model)
        self.view.selectionModel().currentChanged.connect(lambda cur, _prev: self._show(cur))
        self.detail = QTextBrowser()
        self.detail.setObjectName("evidence_detail")
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold;")
        collect = R.can(officer, "evidence.collect")
        self.import_files_btn = QPushButton(_("Import files…"))
        self.import_files_btn.setObjectName("import_files")
        self.import_folder_btn = QPushButton(_("Import folder…"))
        self.physical_btn = QPushButton(_("Physical item…"))
        self.logger_btn = QPushButton(_("Data logger…"))
        self.logger_btn.setObjectName("read_logger")
        self.logger_btn.setToolTip(_("Read the enterprise's online-monitoring data logger (HJ 212) and compare it "
                                     "with the portable analyzer"))
        self.transfer_btn = QPushButton(_("Transfer custody…"))
        self.verify_btn = QPushButton(_("Verify…"))
        self.open_btn = QPushButton(_("Open original"))
        self.open_btn.setObjectName("open_original")
        self.open_btn.setToolTip(_("Opens the stored original read-only; the viewing is recorded in its custody."))
        self.open_btn.clicked.connect(self.open_original)
        # what to do about the selected item: its caption, its warnings, whether it is used as evidence
        self.caption_btn = QPushButton(_("Caption…"))
        self.caption_btn.setObjectName("caption_item")
        self.caption_btn.setToolTip(_("Say what the photo shows; the photo sheet prints it."))
        self.explain_btn = QPushButton(_("Explain warnings…"))
        self.explain_btn.setObjectName("explain_warnings")
        self.explain_btn.setToolTip(_("Write why the warnings do not affect this evidence; the note is kept in its "
                                      "custody."))
        self.keep_btn = QPushButton(_("Keep as it is"))
        self.keep_btn.setObjectName("keep_item")
        self.keep_btn.setToolTip(_("The warnings were seen and the item is used as it is; recorded in its custody."))
        self.exclude_btn = QPushButton(_("Exclude…"))
        self.exclude_btn.setObjectName("exclude_item")
        self.exclude_btn.setToolTip(_("Leave the item out of the case's evidence lists and photo sheets. Nothing is "
                                      "deleted: the original and its custody are kept."))
        self.caption_btn.clicked.connect(self._caption)
        self.explain_btn.clicked.connect(lambda: self._dispose("explained"))
        self.keep_btn.clicked.connect(lambda: self._dispose("kept"))
        self.exclude_btn.clicked.connect(lambda: self._dispose(self.exclude_btn.property("action") or "excluded"))
        self.item_bar = QWidget()
        item_row = QHBoxLayout(self.item_bar)
        item_row.setContentsMargins(0, 0, 0, 0)
        for b in (self.caption_btn, self.explain_btn, self.keep_btn, self.exclude_btn):
            item_row.addWidget(b)
        item_row.addStretch(1)
        self.item_bar.setVisible(False)
        for b in (self.import_files_btn, self.import_folder_btn, self.physical_btn, self.logger_btn, self.transfer_btn):
            b.setVisible(collect)
        self.import_files_btn.clicked.connect(self._pick_files)
        self.import_folder_btn.clicked.connect(self._pick_folder)
        self.physical_btn.clicked.connect(self._physical)
        self.logger_btn.clicked.connect(self._logger)
        self.transfer_btn.clicked.connect(self._transfer)
        self.verify_btn.clicked.connect(self.verify)
        bar = QHBoxLayout()
        bar.addWidget(self.title, 1)
        for b in (self.open_btn, self.import_files_btn, self.import_folder_btn, self.physical_btn,
                  self.logger_btn, self.transfer_btn, self.verify_btn):
            bar.addWidget(b)
        # a recorded measurement session: its series, plotted
        self.series_box = QWidget()
        self.series_box.setObjectName("reading_series")
        self.series_quantity = QComboBox()
        self.series_quantity.currentIndexChanged.connect(self._plot_series)
        self.series_plot = SeriesPlot(window=None)
        sb = QVBoxLayout(self.series_box)
        sb.setContentsMargins(0, 0, 0, 0)
        sb.addWidget(self.series_quantity)
        sb.addWidget(self.series_plot, 1)
        self.series_box.hide()
        self.series: dict[str, tuple[str, str, list[tuple[float, float]]]] = {}
        right = QSplitter(Qt.Orientation.Vertical)
        detail_box = QWidget()
        db = QVBoxLayout(detail_box)
        db.setContentsMargins(0, 0, 0, 0)
        db.addWidget(self.item_bar)
        db.addWidget(self.detail, 1)
        right.addWidget(detail_box)
        right.addWidget(self.series_box)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(split, 1)
        self.set_case(None, "")

    def set_case(self, case_id: str | None, label: str) -> None:
        self.case_id = case_id
        self.case_changed.emit(case_id)
        self.title.setText(_("Evidence of {case}").format(case=label) if case_id else _("Select a case"))
        for b in (self.import_files_btn, self.import_folder_btn, self.physical_btn, self.logger_btn,
                  self.transfer_btn, self.verify_btn):
            b.setEnabled(case_id is not None)
        self.case_label = label
        self.transfer_btn.setEnabled(False)
        self.open_btn.setEnabled(False)
        self.item_bar.setVisible(False)
        self.detail.clear()
        self.refresh()
        self.refresh_overview()

    def refresh_overview(self) -> None:
        case_id, overview = self.case_id, self.overview
        if case_id is not None and overview is not None:
            self.runner.run(lambda: overview(case_id),
                            lambda o: self._show_overview(case_id, o),
                            lambda exc: self.status_message.emit(describe_error(exc)))

    def _show_overview(self, case_id: str, o: dict[str, Any]) -> None:
        """With no item selected: the case's stage, sync state, assignment and review comments. Once
        the case no longer gathers evidence (decided, closed…), collecting is offered no more."""
        if case_id != self.case_id:
            return
        st = o.get("procedure")
        if st is not None:
            gathering = accepts_evidence(st.state)
            for b in (self.import_files_btn, self.import_folder_btn, self.physical_btn):
                b.setEnabled(gathering)
                b.setToolTip("" if gathering else _("Evidence is no longer collected: the case is at {stage}.").format(
                    stage=st.state_label))
        if self.current_item() is not None:
            return
        self.detail.setHtml(describe_overview(o))

    def refresh(self) -> None:
        if self.case_id is None:
            self.model.set_items([])
            return
        cid = self.case_id

        def shown(items: list[dict[str, Any]]) -> None:
            if cid != self.case_id:
                return
            current = self.current_item()
            self.model.set_items(items)
            row = next((k for k, i in enumerate(items) if current is not None and i["id"] == current["id"]), None)
            if row is not None:  # the item selected stays selected, shown as it now is
                self.view.setCurrentIndex(self.model.index(row))
            else:
                self.item_bar.setVisible(False)

        self.runner.run(lambda: self.ev.list_for_case(cid), shown,
                        lambda exc: self.status_message.emit(describe_error(exc)))

    def _show(self, index: QModelIndex) -> None:
        it = self.model.data(index, Qt.ItemDataRole.UserRole)
        self.transfer_btn.setEnabled(it is not None)
        self.open_btn.setEnabled(it is not None and it["sha256"] is not None)
        if it is None:
            return
        self.series_box.hide()
        self.runner.run(lambda: self.ev.show(it["id"]), self._show_full,
                        lambda exc: self.status_message.emit(describe_error(exc)))

    def _show_full(self, full: dict[str, Any]) -> None:
        self.detail.setHtml(describe_item(full))
        self._offer_actions(full)
        if full.get("kind") != media.READING or not full.get("stored_path"):
            return
        from devices.values import load_series

        item_id = full["id"]

        def shown(got: tuple[dict[str, Any], dict[str, Any]]) -> None:
            current = self.current_item()
            if current is None or current["id"] != item_id:
                return
            self.series = got[1]
            self.series_quantity.blockSignals(True)
            self.series_quantity.clear()
            for key, (label, unit, pts) in self.series.items():
                self.series_quantity.addItem(_("{label} ({unit}), {n} values").format(label=label, unit=unit or "—",
                                                                                      n=len(pts)), key)
            self.series_quantity.blockSignals(False)
            self.series_box.setVisible(bool(self.series))
            self._plot_series()

        blobs, sha = self.ev.blobs, full["sha256"]
        self.runner.run(lambda: load_series(blobs.plain(sha)), shown,
                        lambda exc: self.status_message.emit(describe_error(exc)), lane=IO)

    def _offer_actions(self, it: dict[str, Any]) -> None:
        """The item's actions, as far as the officer may take them and they apply."""
        current = self.current_item()
        if current is None or current["id"] != it["id"]:
            return
        state = it.get("disposition") or {}
        may = R.can(self.officer, "evidence.collect") and it["kind"] != media.PHYSICAL
        answered = state.get("action") in ("explained", "kept")
        self.item_bar.setVisible(may)
        self.caption_btn.setVisible(it["kind"] in (media.PHOTO, media.VIDEO))
        for b in (self.explain_btn, self.keep_btn):
            b.setVisible(bool(it["warnings"]) and not answered and not state.get("excluded"))
        excluded = bool(state.get("excluded"))
        self.exclude_btn.setText(_("Use as evidence again…") if excluded else _("Exclude…"))
        self.exclude_btn.setProperty("action", "included" if excluded else "excluded")

    def _caption(self) -> None:
        it = self.current_item()
        if it is None:
            return
        text, ok = QInputDialog.getText(self, _("Caption"),
                                        _("What does this photo show? (printed on the photo sheet)"),
                                        QLineEdit.EchoMode.Normal, it["description"] or "")
        if ok:
            self._act(lambda: self.ev.set_caption(it["id"], self.officer, text))

    def _dispose(self, action: str) -> None:
        it = self.current_item()
        if it is None:
            return
        prompts = {"explained": (_("Explain warnings"), _("Why do the warnings not affect this evidence?")),
                   "kept": (_("Keep as it is"), _("A note, if any (the warnings were seen and the item is kept):")),
                   "excluded": (_("Exclude from the evidence"),
                                _("Why is this item not used as evidence? It stays in custody; nothing is deleted.")),
                   "included": (_("Use as evidence again"), _("Why is this item used as evidence again?"))}
        title, label = prompts[action]
        note, ok = QInputDialog.getMultiLineText(self, title, label)
        if ok:
            self._act(lambda: self.ev.dispose(it["id"], self.officer, action, note))

    def _act(self, work: Callable[[], Any]) -> None:
        """Run an action on the selected item, then show it (and the grid) as it now is."""
        def done(_result: object) -> None:
            self.refresh()  # reselects the item, which shows it again

        self.runner.run(work, done, lambda exc: self.status_message.emit(describe_error(exc)))

    def _plot_series(self) -> None:
        key = self.series_quantity.currentData()
        if key in self.series:
            label, unit, pts = self.series[key]
            self.series_plot.set_series(label, unit, pts)

    def current_item(self) -> dict[str, Any] | None:
        return self.model.data(self.view.currentIndex(), Qt.ItemDataRole.UserRole)

    opened = Signal(str)  # the stored path handed to the desktop

    def open_original(self) -> None:
        """Record a 'viewed' custody event, then hand the read-only original to the desktop."""
        it = self.current_item()
        if it is None or not it["stored_path"]:
            return
        from kit_app.evidence import custody as C

        def hand_over(path: str) -> None:
            self.opened.emit(path)
            if QGuiApplication.platformName() not in ("offscreen", "minimal"):
                QDesktopServices.openUrl(QUrl.fromLocalFile(path))
            self._show(self.view.currentIndex())

        def done(_body: object) -> None:  # recorded: now the file (decrypted, in an encrypted data dir)
            blobs, sha = self.ev.blobs, it["sha256"]
            self.runner.run(lambda: str(blobs.plain(sha)), hand_over,
                            lambda exc: self.status_message.emit(describe_error(exc)), lane=IO)

        self.runner.run(lambda: self.ev.record(it["id"], C.VIEWED, self.officer), done,
                        lambda exc: self.status_message.emit(describe_error(exc)))

    # ---------------------------------------------------------------- import
    def _pick_files(self) -> None:
        files, _f = QFileDialog.getOpenFileNames(self, _("Choose evidence files"), str(Path.home()))
        if files:
            self.import_paths([Path(f) for f in files])

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Choose a folder (e.g. the camera's SD card)"),
                                                  str(Path.home()))
        if folder:
            self.import_paths([Path(folder)])

    def import_paths(self, paths: list[Path]) -> QProgressDialog:
        assert self.case_id is not None

        def done(results: list[IngestResult] | None) -> None:
            self.refresh()
            if results is not None:
                self.imported.emit(results)

        self._progress = import_with_progress(self, self.runner, self.ev, self.case_id, self.officer, paths,
                                              self.status_message.emit, done)
        return self._progress

    # ---------------------------------------------------------------- physical item, transfer, verify
    def _physical(self) -> None:
        assert self.case_id is not None
        dlg = PhysicalItemDialog(self.ev, self.runner, self.officer, self.case_id, self)
        dlg.recorded.connect(lambda _id: self.refresh())
        dlg.open()

    def _logger(self) -> None:
        from ui.logger_dialog import LoggerDialog

        assert self.case_id is not None
        dlg = LoggerDialog(self.ev, self.runner, self.officer, self.case_id, self.case_label, self)
        dlg.finished.connect(lambda _code: self.refresh())
        dlg.open()

    def _transfer(self) -> None:
        it = self.current_item()
        if it is None:
            return

        def open_dialog(officers: list[OfficerInfo]) -> None:
            dlg = TransferDialog(self.ev, self.runner, self.officer, it, officers, self)
            dlg.transferred.connect(lambda _b: self._show(self.view.currentIndex()))
            dlg.open()

        self.runner.run(self.officers_list, open_dialog)

    def verify(self) -> None:
        cid = self.case_id
        progress = QProgressDialog(_("Verifying…"), _("Cancel"), 0, 0, self)
        progress.setWindowTitle(_("Verify evidence"))
        progress.setMinimumDuration(300)

        def work(ctx):  # type: ignore[no-untyped-def]
            return self.ev.verify(cid, progress=lambda _what, done, total: ctx.report(done, total))

        def done(rep: VerifyReport) -> None:
            progress.close()
            if rep.ok:
                QMessageBox.information(self, _("Verify evidence"), _(
                    "All holds: {files} files re-hashed and {events} custody events verified.").format(
                    files=rep.files_checked, events=rep.events_checked))
            else:
                box = QMessageBox(QMessageBox.Icon.Critical, _("Verify evidence"),
                                  _("{n} problems found.").format(n=len(rep.problems)), parent=self)
                box.setDetailedText("\n".join(f"{p.kind}: {p.evidence_id or ''} #{p.seq or ''} {p.detail}"
                                              for p in rep.problems))
                box.open()

        self.runner.run(work, done, lambda exc: (progress.close(), self.status_message.emit(describe_error(exc))),
                        on_progress=lambda d, t: (progress.setMaximum(t), progress.setValue(d)), with_context=True)


def import_with_progress(parent: QWidget, runner: TaskRunner, ev: Any, case_id: str, officer: OfficerInfo,
                         paths: list[Path], report: Callable[[str], None],
                         done: Callable[[list[IngestResult] | None], None]) -> QProgressDialog:
    """Import files or folders into a case on a worker, with progress and cancel; the summary (and
    what failed, named file by file) is reported; ``done`` gets the results (None if it failed)."""
    progress = QProgressDialog(_("Importing evidence…"), _("Cancel"), 0, 0, parent)
    progress.setWindowTitle(_("Import evidence"))
    progress.setMinimumDuration(300)
    progress.setAutoClose(False)
    progress.setAutoReset(False)

    def work(ctx):  # type: ignore[no-untyped-def]
        return ev.ingest(case_id, officer, paths, progress=ctx.report, cancelled=lambda: ctx.cancelled)

    def on_progress(n: int, total: int) -> None:
        progress.setMaximum(total)
        progress.setValue(n)
        progress.setLabelText(_("Importing evidence… {done} of {total} files").format(done=n, total=total))

    def finished(results: list[IngestResult]) -> None:
        progress.close()
        done(results)
        _summary(parent, results, report)

    def failed(exc: BaseException) -> None:
        progress.close()
        done(None)
        msg = describe_error(exc)
        report(msg)
        box = QMessageBox(QMessageBox.Icon.Warning, _("Import evidence"), msg, parent=parent)
        box.setObjectName("import_failed")
        box.open()

    handle = runner.run(work, finished, failed, on_progress=on_progress, with_context=True)
    progress.canceled.connect(handle.cancel)
    return progress


def _summary(parent: QWidget, results: list[IngestResult], report: Callable[[str], None]) -> None:
    ok = sum(r.status == "ok" for r in results)
    dup = sum(r.status == "duplicate" for r in results)
    err = [r for r in results if r.status == "error"]
    warned = sum(1 for r in results if r.status == "ok" and r.warnings)
    msg = _("{ok} imported, {dup} duplicates, {err} failed.").format(ok=ok, dup=dup, err=len(err))
    if warned:
        msg += " " + _("{n} items have warnings (shown in red).").format(n=warned)
    skipped = [r for r in results if r.status == "skipped"]
    if skipped:
        msg += " " + _("{n} hidden files or folders were not imported.").format(n=len(skipped))
    if full := [r for r in err if r.disk_full]:
        needed = max(r.space_needed or 0 for r in full)
        msg = _("The disk filled up during the import: {ok} files were imported whole, {n} were not; they need "
                "{needed} of free space. Free some space (move videos off this laptop) or use a larger drive, "
                "then import the same files again: those already imported are recognised and skipped.").format(
            ok=ok, n=len(err), needed=human(needed))
    report(msg)
    if err or skipped:
        box = QMessageBox(QMessageBox.Icon.Warning, _("Import evidence"), msg, parent=parent)
        box.setDetailedText("\n".join(f"{Path(r.path).name}: {r.error}" for r in [*err, *skipped]))
        box.open()
