"""Print preview: the very PDFs that will be printed, every page, before the system print dialog.

The pages are the issued documents themselves (not a specimen), drawn by QtPdf's own render threads;
printing paints the same pages on the printer, so what is seen is what comes out.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kit_app.i18n import _


class PrintPreview(QDialog):
    """Documents (title, PDF) shown page by page; Print… asks for the printer and hands it to ``on_print``."""

    def __init__(self, parent: QWidget | None, documents: list[tuple[str, bytes]],
                 on_print: Callable[[QPrinter], None], choose: Callable[[QWidget], QPrinter | None]) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Print preview"))
        self.resize(1000, 760)
        self.on_print, self.choose = on_print, choose
        self.docs: list[QPdfDocument] = []
        self._buffers: list[QBuffer] = []
        for _title, pdf in documents:
            buf = QBuffer(self)
            buf.setData(QByteArray(pdf))
            buf.open(QIODevice.OpenModeFlag.ReadOnly)
            doc = QPdfDocument(self)
            doc.load(buf)
            self.docs.append(doc)
            self._buffers.append(buf)
        self.pages = sum(d.pageCount() for d in self.docs)
        self.list = QListWidget()
        self.list.setObjectName("preview_documents")
        for (title, _pdf), doc in zip(documents, self.docs, strict=True):
            self.list.addItem(_("{title} ({pages} pages)").format(title=title, pages=doc.pageCount()))
        self.view = QPdfView()
        self.view.setObjectName("preview_pages")
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitInView)
        self.list.currentRowChanged.connect(self._show)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.view)
        split.setSizes([240, 760])
        self.list.setVisible(len(documents) > 1)
        self.summary = QLabel(_("{docs} documents, {pages} pages, exactly as they will print.").format(
            docs=len(documents), pages=self.pages))
        self.print_btn = QPushButton(_("Print…"))
        self.print_btn.setObjectName("preview_print")
        self.print_btn.setDefault(True)
        self.print_btn.clicked.connect(self.print_)
        close = QPushButton(_("Close"))
        close.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.print_btn)
        bottom.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addLayout(bottom)
        self.list.setCurrentRow(0)
        self._show(0)

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.docs):
            self.view.setDocument(self.docs[row])

    def print_(self, printer: QPrinter | None = None) -> None:
        """The system print dialog (or ``printer``, given), then printing; the preview closes."""
        printer = printer or self.choose(self)
        if printer is None:
            return
        self.on_print(printer)
        self.accept()


__all__ = ["PrintPreview"]
