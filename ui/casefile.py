"""The case file and the court pack from the cases pane: the file built on a worker and shown in the
print preview (printing through the system dialog); the pack written on a worker with progress and
cancel, then summarised with how anyone checks it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QWidget

from kit_app.dto import OfficerInfo
from kit_app.i18n import _
from ui.printpreview import PrintPreview
from ui.services import Services
from ui.tasks import IO, TaskRunner, describe_error


def show_case_file(parent: QWidget, services: Services, runner: TaskRunner, officer: OfficerInfo, case_id: str,
                   title: str, report: Callable[[str], None]) -> QProgressDialog:
    """Build the case file on a worker, then preview it; Print… goes through the system dialog."""
    from ui.documents import choose_printer, print_pdfs

    busy = QProgressDialog(_("Building the case file…"), _("Cancel"), 0, 0, parent)
    busy.setObjectName("casefile_progress")
    busy.setWindowTitle(_("Case file"))
    busy.setMinimumDuration(300)
    state: dict[str, Any] = {}

    def built(cf: Any) -> None:
        if busy.wasCanceled():  # asked before closing it: closing a progress dialog counts as cancelling
            return
        busy.close()
        for w in cf.warnings:
            report(w)

        def printed(printer: Any) -> None:
            from kit_app.services.audit import AuditService

            def done(pages: int) -> None:  # the access log keeps who printed the case file, and where
                report(_("Printed {pages} pages.").format(pages=pages))
                runner.run(lambda: AuditService(services.store).record(
                    officer, "paper.print", target=title, case_id=case_id,
                    details={"what": "case file", "pages": pages, "printer": printer.printerName()}),
                    None, lambda e: report(describe_error(e)))

            runner.run(lambda: print_pdfs([cf.pdf], printer), done, lambda e: report(describe_error(e)), lane=IO)

        state["preview"] = preview = PrintPreview(parent, [(_("Case file of {case}").format(case=title), cf.pdf)],
                                                  printed, choose_printer)
        preview.setObjectName("casefile_preview")
        preview.open()

    def failed(exc: BaseException) -> None:
        busy.close()
        report(describe_error(exc))

    runner.run(lambda: services.casefile.build(case_id, officer), built, failed)
    busy.state = state  # type: ignore[attr-defined]  # the preview, once shown (tests look at it)
    return busy


def export_court_pack(parent: QWidget, services: Services, runner: TaskRunner, officer: OfficerInfo, case_id: str,
                      number: str, report: Callable[[str], None], target: Path | None = None) -> QProgressDialog | None:
    """Ask where (unless ``target`` is given), then write the pack on a worker with progress and cancel."""
    if target is None:
        chosen, _f = QFileDialog.getSaveFileName(parent, _("Save the court pack"),
                                                 str(Path.home() / f"证据包-{number}.zip"), _("Zip archives (*.zip)"))
        if not chosen:
            return None
        target = Path(chosen)
    progress = QProgressDialog(_("Writing the court pack…"), _("Cancel"), 0, 0, parent)
    progress.setObjectName("courtpack_progress")
    progress.setWindowTitle(_("Court pack"))
    progress.setMinimumDuration(300)
    progress.setAutoClose(False)
    progress.setAutoReset(False)
    dest = target

    from kit_app.services.courtpack import write

    def planned(plan: Any) -> None:
        """Read from the database; the files now, on an I/O worker: the database lane stays free."""
        def work(ctx: Any) -> Any:
            return write(plan, dest, progress=ctx.report, cancelled=lambda: ctx.cancelled)

        def written(pack: Any) -> None:  # each original's custody says where it went
            def record() -> Any:
                services.courtpack.record(plan, pack)
                return pack

            runner.run(record, done, failed)

        state["handle"] = runner.run(work, written, failed, with_context=True, lane=IO, on_progress=moved)

    def done(pack: Any) -> None:
        progress.close()
        msg = _("The court pack {file} holds the case file ({pages} pages), {n} originals exactly as collected, "
                "their custody and the server's receipts, signed by this kit. Anyone can check it without this "
                "kit: the checking program and how to run it are inside the pack (README.txt and the printed "
                "verification page).").format(file=pack.path, pages=pack.case_file_pages, n=pack.originals)
        report(_("Court pack written: {file}").format(file=pack.path))
        box = QMessageBox(QMessageBox.Icon.Information, _("Court pack"), msg, parent=parent)
        box.setObjectName("courtpack_done")
        box.open()
        progress.box = box  # type: ignore[attr-defined]

    def failed(exc: BaseException) -> None:
        progress.close()
        report(describe_error(exc))

    def moved(n: int, total: int) -> None:
        progress.setMaximum(total)
        progress.setValue(n)

    state: dict[str, Any] = {}
    runner.run(lambda: services.courtpack.plan(case_id, officer), planned, failed)
    progress.canceled.connect(lambda: state["handle"].cancel() if "handle" in state else None)
    return progress


__all__ = ["export_court_pack", "show_case_file"]
