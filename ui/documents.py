"""Enforcement documents in the app: an editor generated from the document's definition, filled
from the case, validated as you type, with a live PDF preview (QtPdf); issuing, printing through
the system print dialog, attaching the signed copy; and the case's documents, printed in a batch.

PDFs are rendered (reportlab) and printed (QtPdf pages painted on the QPrinter) off the GUI thread.
"""

from __future__ import annotations

import logging
import re
from html import escape
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import forms
from forms import DocumentDef, FieldDef, FormError
from forms.model import derive
from forms.procedure import case_procedure
from kit_app import roles as R
from kit_app.dto import OfficerInfo
from kit_app.i18n import _
from ui.datefields import DatePicker
from ui.printpreview import PrintPreview
from ui.services import Services
from ui.signing import SigningBox
from ui.tasks import IO, TaskRunner, describe_error

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- printing (off the GUI thread)
PRINT_DPI = 300
def print_pdfs(pdfs: list[bytes], printer: QPrinter, cancelled: Any = None) -> int:
    """Paint every page of every PDF on ``printer`` at its resolution; returns pages printed."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError(_("the printer could not be started"))
    pages = 0
    try:
        for pdf in pdfs:
            doc = QPdfDocument()
            buf = QBuffer()
            buf.setData(QByteArray(pdf))
            buf.open(QIODevice.OpenModeFlag.ReadOnly)
            doc.load(buf)
            rect = painter.viewport()
            for p in range(doc.pageCount()):
                if cancelled is not None and cancelled():
                    return pages
                if pages:
                    printer.newPage()
                size = doc.pagePointSize(p)
                turn = size.width() > size.height() and rect.width() < rect.height()  # a landscape list
                w, h = (size.height(), size.width()) if turn else (size.width(), size.height())
                scale = min(rect.width() / w, rect.height() / h)
                # rasterised at 300 dpi at most (a 1200-dpi A4 page would be half a gigabyte), then scaled
                dpi = min(scale * 72, PRINT_DPI) / 72
                img = doc.render(p, QSize(int(size.width() * dpi), int(size.height() * dpi)))
                painter.save()
                if turn:
                    painter.translate(w * scale, 0)
                    painter.rotate(90)
                painter.drawImage(QRect(0, 0, int(size.width() * scale), int(size.height() * scale)), img)
                painter.restore()
                pages += 1
            doc.close()
    finally:
        painter.end()
    return pages


def choose_printer(parent: QWidget) -> QPrinter | None:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dlg = QPrintDialog(printer, parent)
    dlg.setWindowTitle(_("Print"))
    return printer if dlg.exec() == QDialog.DialogCode.Accepted else None


# ---------------------------------------------------------------- field widgets
class FieldWidget:
    """One field of a definition as an input widget; ``value()`` gives the payload value."""

    def __init__(self, f: FieldDef, changed: Any) -> None:
        self.f = f
        t = f.type
        if t == "textarea" or t in ("officers", "qa"):
            w: QWidget = QPlainTextEdit()
            w.setMinimumHeight(110 if t == "textarea" else 70)
            w.textChanged.connect(changed)
            if t == "officers":
                w.setPlaceholderText(_("one officer a line: name and certificate number"))
            elif t == "qa":
                w.setPlaceholderText(_("问：… and 答：… lines, in turn"))
        elif t == "choice":
            w = QComboBox()
            if not f.required or f.default is None:  # a required choice is made by the officer, never by default
                w.addItem("")
            w.addItems(list(f.choices))
            for i, choice in enumerate(f.choices, start=w.count() - len(f.choices)):
                w.setItemData(i, choice, Qt.ItemDataRole.ToolTipRole)  # long legal wording: read in full
            w.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            w.setMinimumContentsLength(16)
            w.currentIndexChanged.connect(changed)
            w.currentTextChanged.connect(w.setToolTip)
        elif t == "signing":
            w = SigningBox(f, changed)
        elif t in ("date", "datetime"):
            w = DatePicker(with_time=t == "datetime")
            w.dateTimeChanged.connect(changed)
        elif t == "table":
            w = QTableWidget(0, len(f.columns))
            w.setHorizontalHeaderLabels([c.label for c in f.columns])
            w.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            w.setMinimumHeight(150)
            w.itemChanged.connect(changed)
        else:
            w = QLineEdit()
            if f.max_length:
                w.setMaxLength(f.max_length)
            w.textChanged.connect(changed)
        w.setObjectName(f"field_{f.name}")
        self.widget = w

    def set(self, value: Any) -> None:
        t, w = self.f.type, self.widget
        if value is None:
            return
        if t == "signing":
            w.set(value)  # type: ignore[attr-defined]
        elif t == "officers":
            w.setPlainText("\n".join(f"{o['name']} {o['cert_no']}" for o in value))  # type: ignore[attr-defined]
        elif t == "qa":
            w.setPlainText("\n".join(f"问：{qa['q']}\n答：{qa.get('a', '')}" for qa in value))  # type: ignore[attr-defined]
        elif t == "textarea":
            w.setPlainText(str(value))  # type: ignore[attr-defined]
        elif t == "choice":
            w.setCurrentText(str(value))  # type: ignore[attr-defined]
        elif t == "table":
            w.setRowCount(len(value))  # type: ignore[attr-defined]
            for r, row in enumerate(value):
                for c, col in enumerate(self.f.columns):
                    v = row.get(col.name)
                    s = "" if v is None else str(v)
                    w.setItem(r, c, QTableWidgetItem(s.replace("T", " ") if col.type == "datetime" else s))  # type: ignore[attr-defined]
        elif t in ("date", "datetime"):
            w.set_value(value)  # type: ignore[attr-defined]
        else:
            w.setText(str(value))  # type: ignore[attr-defined]

    def value(self) -> Any:
        t, w = self.f.type, self.widget
        if t in ("textarea",):
            return w.toPlainText()  # type: ignore[attr-defined]
        if t in ("signing", "date", "datetime"):
            return w.value()  # type: ignore[attr-defined]
        if t == "choice":
            return w.currentText()  # type: ignore[attr-defined]
        if t == "officers":
            out = []
            for line in w.toPlainText().splitlines():  # type: ignore[attr-defined]
                parts = line.replace("，", " ").replace(",", " ").split()
                if parts:
                    out.append({"name": " ".join(parts[:-1]) if len(parts) > 1 else parts[0],
                                "cert_no": parts[-1] if len(parts) > 1 else ""})
            return out
        if t == "qa":
            out, cur = [], None
            for line in w.toPlainText().splitlines():  # type: ignore[attr-defined]
                s = line.strip()
                if s.startswith(("问：", "问:")):
                    cur = {"q": s[2:].strip(), "a": ""}
                    out.append(cur)
                elif s.startswith(("答：", "答:")) and cur is not None:
                    cur["a"] = s[2:].strip()
                elif s and cur is not None:
                    cur["a"] = (cur["a"] + "\n" + s).strip()
            return out
        if t == "table":
            rows = []
            for r in range(w.rowCount()):  # type: ignore[attr-defined]
                row: dict[str, Any] = {}
                for c, col in enumerate(self.f.columns):
                    item = w.item(r, c)  # type: ignore[attr-defined]
                    text = item.text().strip() if item else ""
                    row[col.name] = _convert(col, text)
                if any(v not in (None, "") for v in row.values()):
                    rows.append(row)
            return rows
        return _convert(self.f, w.text().strip())  # type: ignore[attr-defined]

    def mark(self, bad: bool, part: str = "") -> None:
        """Outline the field in red; for a signing, the part of it that is wrong."""
        if isinstance(self.widget, SigningBox):
            self.widget.mark(part if bad else "")
        else:
            self.widget.setStyleSheet("border: 1px solid #d32f2f;" if bad else "")


def _convert(f: FieldDef, text: str) -> Any:
    if text == "":
        return None
    if f.type == "int":
        try:
            return int(text)
        except ValueError:
            return text  # validation names it
    if f.type == "number":
        try:
            return float(text)
        except ValueError:
            return text
    return text


def field_place(defn: DocumentDef, path: str) -> str:
    """Where a field error is, in the officer's words: the field's label, the row of a table and its
    column's label — never the internal field name."""
    m = re.match(r"^(\w+)(?:\[(\d+)\])?(?:\.(\w+))?", path)
    if m is None or m.group(1) not in {f.name for f in defn.fields}:
        return _("The document")
    f = defn.field(m.group(1))
    out = f.label
    if m.group(2) is not None:
        out += " " + _("row {n}").format(n=int(m.group(2)) + 1)
    col = next((c for c in f.columns if c.name == m.group(3)), None)
    if col is not None:
        out += " " + col.label
    return out


# ---------------------------------------------------------------- the editor
def prefilled(services: Services, case_id: str, doc_type: str, officer: OfficerInfo) -> dict[str, Any]:
    """What a new document starts from: filled from the case — and for the inspection record of an
    on-site inspection, drafted from the inspection itself (steps, answers, findings)."""
    from kit_app.errors import NotFound

    payload = services.documents.prefill(case_id, doc_type, officer)
    if doc_type == "inspection_record":
        try:
            drafted = services.inspections.draft_record(case_id)
        except NotFound:  # a case that is no inspection: filled from the case only
            return payload
        payload |= {k: v for k, v in drafted.items() if v not in (None, "", []) or k == "party_comment"}
    elif doc_type == "interview_record" and not payload.get("qa"):
        questions = services.inspections.inquiry_questions(case_id)
        if questions:
            payload["qa"] = [{"q": q, "a": ""} for q in questions]
    return payload


class DocumentEditor(QDialog):
    """Fill, check, preview and issue one document of a case."""

    issued = Signal(object)  # IssuedDocument

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo, case_id: str, doc_type: str,
                 parent: QWidget | None = None, corrects: str | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.officer, self.case_id = services, runner, officer, case_id
        self.corrects = corrects  # the issued document this one corrects: it starts from its payload
        self.defn: DocumentDef = forms.get(doc_type)
        self.result_doc: Any = None
        self.pdf: bytes | None = None
        self._seq = 0
        self.setWindowTitle(self.defn.title + (" — " + _("correction") if corrects else ""))
        self.resize(1360, 880)
        self.setObjectName("document_editor")

        form = QFormLayout()
        self.fields: dict[str, FieldWidget] = {}
        for f in self.defn.fields:
            fw = FieldWidget(f, self._changed)
            self.fields[f.name] = fw
            lab = QLabel(f.label + (" *" if f.required else ""))
            if f.help:
                lab.setToolTip(f.help)
            form.addRow(lab, fw.widget)
        inner = QWidget()
        inner.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)

        self.pdf_doc = QPdfDocument(self)
        self.view = QPdfView()
        self.view.setObjectName("pdf_preview")
        self.view.setDocument(self.pdf_doc)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self._buffer: QBuffer | None = None

        split = QSplitter()
        split.addWidget(scroll)
        split.addWidget(self.view)
        split.setSizes([560, 760])

        self.status = QLabel()
        self.status.setObjectName("document_status")
        self.status.setWordWrap(True)
        self.issue_btn = QPushButton(_("Issue"))
        self.issue_btn.setObjectName("issue_document")
        self.issue_btn.setToolTip(_("Numbers and freezes the document; its PDF becomes evidence of the case."))
        self.issue_btn.setVisible(R.can(officer, "document.issue"))
        self.issue_btn.clicked.connect(self.issue)
        self.print_btn = QPushButton(_("Print…"))
        self.print_btn.clicked.connect(self.print_)
        self.signed_btn = QPushButton(_("Attach signed copy…"))
        self.signed_btn.clicked.connect(self.attach_signed)
        self.close_btn = QPushButton(_("Close"))
        self.close_btn.clicked.connect(self.close)
        for b in (self.print_btn, self.signed_btn):
            b.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        for b in (self.issue_btn, self.print_btn, self.signed_btn, self.close_btn):
            row.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addLayout(row)

        self._timer = QTimer(self, singleShot=True, interval=350)
        self._timer.timeout.connect(self._check)
        self._loading = True
        self.status.setText(_("Filling in from the case…"))
        signing = any(f.type == "signing" for f in self.defn.fields)

        def fill() -> tuple[dict[str, Any], list[dict[str, str]]]:
            payload = services.documents.get(corrects)["payload"] if corrects else \
                prefilled(services, case_id, doc_type, officer)
            return payload, services.documents.signing_photos(case_id) if signing else []

        runner.run(fill, self._prefilled, self._failed)

    # ------------------------------------------------------------ filling and checking
    def _prefilled(self, got: tuple[dict[str, Any], list[dict[str, str]]]) -> None:
        payload, photos = got
        for fw in self.fields.values():
            if isinstance(fw.widget, SigningBox):
                fw.widget.set_photos(photos)
        for name, value in payload.items():
            if name in self.fields:
                self.fields[name].set(value)
        self._loading = False
        self._check()

    def _changed(self, *_a: object) -> None:
        if not self._loading and self.result_doc is None:
            self._timer.start()

    def payload(self) -> dict[str, Any]:
        out = {}
        for name, fw in self.fields.items():
            v = fw.value()
            if v not in (None, "", []):
                out[name] = v
        return out

    def _fill_derived(self) -> None:
        """Fields that follow from others (计罚日数, 罚款总额) are computed as the officer types."""
        payload = self.payload()
        for f in self.defn.fields:
            try:
                value = derive(f, payload)
            except (TypeError, ValueError):  # a source not yet a date or a number: validation names it
                continue
            if value is None or f.name not in self.fields:
                continue
            shown: Any = int(value) if f.type == "int" or float(value).is_integer() else value
            if payload.get(f.name) != shown:
                self._loading = True
                self.fields[f.name].set(shown)
                self._loading = False
                payload[f.name] = shown

    def _check(self) -> bool:
        for fw in self.fields.values():
            fw.mark(False)
        self._fill_derived()
        try:
            data = self.defn.validate(self.payload())
        except FormError as exc:
            top = exc.field.split("[")[0].split(".")[0]
            if top in self.fields:
                self.fields[top].mark(True, exc.field.rpartition(".")[2])
            where = field_place(self.defn, exc.field)
            message = exc.message.replace(f" ({where})", "").replace(f"（{where}）", "")  # the label, said once
            self.status.setText(f"<span style='color:#c62828'>{escape(where)}：{escape(message)}</span>")
            self.issue_btn.setEnabled(False)
            return False
        self.issue_btn.setEnabled(True)
        self.status.setText(_("Ready to issue. The preview is marked as a specimen; the issued document prints "
                              "without the mark."))
        self._preview(data)
        return True

    def _preview(self, data: dict[str, Any]) -> None:
        from reports import render

        self._seq += 1
        seq, defn = self._seq, self.defn

        def done(res: Any) -> None:
            if seq == self._seq and self.result_doc is None:
                self._show_pdf(res.pdf)
                if res.warnings:
                    self.status.setText("<span style='color:#b26a00'>" + "；".join(res.warnings) + "</span>")

        docs, case_id = self.services.documents, self.case_id

        def draw(seal_text: str | None) -> None:  # the agency's seal words read on the database lane, drawn off it
            self.runner.run(lambda: render(defn, data, specimen=True, seal_text=seal_text), done, self._failed,
                            lane=IO)

        self.runner.run(lambda: docs.seal_text(case_id), draw, self._failed)

    def _show_pdf(self, pdf: bytes) -> None:
        self.pdf = pdf
        self.pdf_doc.close()
        buf = QBuffer(self)
        buf.setData(QByteArray(pdf))
        buf.open(QIODevice.OpenModeFlag.ReadOnly)
        self.pdf_doc.load(buf)
        if self._buffer is not None:
            self._buffer.deleteLater()
        self._buffer = buf

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"<span style='color:#c62828'>{describe_error(exc)}</span>")

    # ------------------------------------------------------------ issuing, printing, signed copy
    def issue(self) -> None:
        if not self._check():
            return
        if QMessageBox.question(self, _("Issue"), _("Issue this {title}? It is numbered and frozen: corrections are "
                                                     "made by a new document.").format(title=self.defn.title)) \
                != QMessageBox.StandardButton.Yes:
            return
        payload = self.payload()
        self.issue_btn.setEnabled(False)
        self.status.setText(_("Issuing…"))
        docs = self.services.documents

        def work() -> tuple[Any, bytes]:
            res = docs.issue(self.case_id, self.officer, self.defn.id, payload, corrects=self.corrects)
            return res, docs.pdf_path(res.id).read_bytes()

        def done(got: tuple[Any, bytes]) -> None:
            res, pdf = got
            self.result_doc = res
            self._show_pdf(pdf)
            for fw in self.fields.values():
                fw.widget.setEnabled(False)
            self.print_btn.setEnabled(True)
            self.signed_btn.setEnabled(True)
            self.status.setText(_("Issued {title} {number}: {pages} pages, kept as evidence of the case.").format(
                title=res.title, number=res.number or "", pages=res.pages))
            self.issued.emit(res)

        def failed(exc: BaseException) -> None:
            self.issue_btn.setEnabled(True)
            self._failed(exc)

        self.runner.run(work, done, failed)

    def print_(self) -> PrintPreview | None:
        """The issued document in a print preview (every page, as printed), then the print dialog."""
        if self.pdf is None or self.result_doc is None:
            return None
        doc, pdf = self.result_doc, self.pdf
        preview = PrintPreview(self, [(doc.title, pdf)], lambda printer: print_batch(
            self.services, self.runner, self.officer, [(doc.id, pdf)], printer, self.status.setText), choose_printer)
        preview.open()
        return preview

    def attach_signed(self) -> None:
        if self.result_doc is None:
            return
        path, _f = QFileDialog.getOpenFileName(self, _("The signed copy (photo or scan)"), "",
                                               _("Pictures and PDF (*.jpg *.jpeg *.png *.pdf);;All files (*)"))
        if not path:
            return
        from pathlib import Path

        doc_id = self.result_doc.id
        self.runner.run(lambda: self.services.documents.attach_signed_copy(doc_id, self.officer, Path(path)),
                        lambda _eid: self.status.setText(_("The signed copy is evidence of the case now.")),
                        self._failed)


def print_batch(services: Services, runner: TaskRunner, officer: OfficerInfo | None, docs: list[tuple[str, bytes]],
                printer: QPrinter, report: Any) -> None:
    """Print documents on a worker, then record a custody event ``printed`` for each."""
    name = printer.printerName() or printer.outputFileName() or "printer"
    report(_("Printing {n} documents…").format(n=len(docs)))

    def printed(pages: int) -> None:
        runner.run(lambda: services.documents.record_printed([d for d, _p in docs], officer, name),
                   lambda _r: report(_("Printed {pages} pages.").format(pages=pages)),
                   lambda e: report(describe_error(e)))

    runner.run(lambda: print_pdfs([p for _d, p in docs], printer), printed, lambda e: report(describe_error(e)),
               lane=IO)


# ---------------------------------------------------------------- a case's documents
class CaseDocumentsDialog(QDialog):
    """The documents of a case: new (officers), open, and print a selection in one batch (review staff)."""

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo, case_id: str, label: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.officer, self.case_id = services, runner, officer, case_id
        self.setWindowTitle(_("Documents of {case}").format(case=label))
        self.resize(900, 520)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("case_documents")
        self.table.setHorizontalHeaderLabels([_("Document"), _("Number"), _("Issued"), _("Corrects")])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.rows: list[dict[str, Any]] = []
        self.type = QComboBox()
        self.type.setObjectName("new_document_type")
        self._offer(())
        self.new_btn = QPushButton(_("New document…"))
        self.new_btn.setObjectName("new_document")
        self.new_btn.clicked.connect(self.new_document)
        can_issue = R.can(officer, "document.issue")
        self.type.setVisible(can_issue)
        self.new_btn.setVisible(can_issue)
        self.correct_btn = QPushButton(_("Correct…"))
        self.correct_btn.setObjectName("correct_document")
        self.correct_btn.setToolTip(_("An issued document is never edited: a correction is a new document that "
                                      "names the one it corrects."))
        self.correct_btn.setVisible(can_issue)
        self.correct_btn.clicked.connect(self.correct_selected)
        self.print_btn = QPushButton(_("Print selected…"))
        self.print_btn.setObjectName("print_documents")
        self.print_btn.clicked.connect(self.print_selected)
        self.status = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.type, 1)
        top.addWidget(self.new_btn)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.correct_btn)
        bottom.addWidget(self.print_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addLayout(bottom)
        self.editors: list[DocumentEditor] = []
        self.preview: PrintPreview | None = None
        self._step: tuple[tuple[str, bool], ...] = ()
        self.refresh()

    def refresh(self) -> None:
        self.runner.run(lambda: self.services.documents.list_for_case(self.case_id), self._show,
                        lambda e: self.status.setText(describe_error(e)))
        self.runner.run(lambda: self.services.lifecycle.status(self.case_id).documents, self._offer,
                        lambda e: self.status.setText(describe_error(e)))

    def _offer(self, step: tuple[tuple[str, bool], ...]) -> None:
        """The documents the case's step makes first, in their order (the first not yet issued chosen),
        then every other type in the order a case meets them."""
        current = self.type.currentData()
        defs = forms.definitions()
        self.type.blockSignals(True)
        self.type.clear()
        for doc_type, issued in step:
            self.type.addItem(("✓ " if issued else "") + defs[doc_type].title, doc_type)
        if step:
            self.type.insertSeparator(self.type.count())
        flow = [t for st in case_procedure().states.values() for t in st.documents]  # the case's order
        rank = {t: flow.index(t) for t in set(flow)}
        for d in sorted(defs.values(), key=lambda d: (rank.get(d.id, len(flow)), d.title)):
            if d.id not in dict(step):
                self.type.addItem(d.title, d.id)
        self._step = step
        self._mark_waiting()
        issued = {r["type"] for r in self.rows}
        wanted = next((t for t, done in step if not done and self._ready(t, issued)), current)
        self.type.setCurrentIndex(max(0, self.type.findData(wanted)))
        self.type.blockSignals(False)

    @staticmethod
    def _ready(doc_type: str, issued: set[str]) -> bool:
        return all(issued & set(need) for need in forms.get(doc_type).requires)

    def _mark_waiting(self) -> None:
        """A paper that follows another not issued yet is shown, greyed, with the paper it waits for."""
        issued = {r["type"] for r in self.rows}
        model: Any = self.type.model()
        for i in range(self.type.count()):
            doc_type = self.type.itemData(i)
            item = model.item(i)
            if not doc_type or item is None:
                continue
            ready = self._ready(doc_type, issued)
            item.setEnabled(ready)
            waits = "；".join("或".join(f"《{forms.get(t).title}》" for t in need)
                             for need in forms.get(doc_type).requires if not issued & set(need))
            item.setToolTip("" if ready else _("Issue {titles} first.").format(titles=waits))

    def _show(self, rows: list[dict[str, Any]]) -> None:
        from datetime import datetime

        from kit_app.timeutil import format_local

        self.rows = rows
        self._mark_waiting()
        self.table.setRowCount(len(rows))
        titles = {r["id"]: r["title"] for r in rows}
        for i, r in enumerate(rows):
            item = QTableWidgetItem(r["title"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.table.setItem(i, 0, item)
            self.table.setItem(i, 1, QTableWidgetItem(r["number"] or ""))
            self.table.setItem(i, 2, QTableWidgetItem(format_local(datetime.fromisoformat(r["issued_at"]))))
            self.table.setItem(i, 3, QTableWidgetItem(titles.get(r["corrects"], "") if r["corrects"] else ""))
        self.print_btn.setEnabled(bool(rows))

    def checked_ids(self) -> list[str]:
        return [self.rows[i]["id"] for i in range(self.table.rowCount())
                if self.table.item(i, 0).checkState() == Qt.CheckState.Checked]

    def new_document(self) -> DocumentEditor:
        ed = DocumentEditor(self.services, self.runner, self.officer, self.case_id, self.type.currentData(), self)
        ed.issued.connect(lambda _d: self.refresh())
        self.editors.append(ed)
        ed.show()
        return ed

    def correct_selected(self) -> DocumentEditor | None:
        row = self.table.currentRow()
        if row < 0 or row >= len(self.rows):
            self.status.setText(_("Select the document to correct."))
            return None
        old = self.rows[row]
        ed = DocumentEditor(self.services, self.runner, self.officer, self.case_id, old["type"], self,
                            corrects=old["id"])
        ed.issued.connect(lambda _d: self.refresh())
        self.editors.append(ed)
        ed.show()
        return ed

    def print_selected(self, printer: QPrinter | None = None) -> None:
        ids = self.checked_ids()
        if not ids:
            self.status.setText(_("Tick the documents to print."))
            return
        docs = self.services.documents
        titles = {r["id"]: r["title"] + (f" {r['number']}" if r["number"] else "") for r in self.rows}

        def load() -> list[tuple[str, bytes]]:
            return [(d, docs.pdf_path(d).read_bytes()) for d in ids]

        def go(got: list[tuple[str, bytes]], chosen: QPrinter) -> None:
            print_batch(self.services, self.runner, self.officer, got, chosen, self.status.setText)

        def loaded(got: list[tuple[str, bytes]]) -> None:
            if printer is not None:  # a printer already chosen: straight to it
                go(got, printer)
                return
            self.preview = PrintPreview(self, [(titles.get(d, ""), pdf) for d, pdf in got],
                                        lambda chosen: go(got, chosen), choose_printer)
            self.preview.open()

        self.runner.run(load, loaded, lambda e: self.status.setText(describe_error(e)))


__all__ = ["CaseDocumentsDialog", "DocumentEditor", "print_batch", "print_pdfs"]
