"""``kit-app --self-test``: what IT staff run after installing (and CI runs on the bundle) — a
temporary store with its migrations, a photo taken by the simulated camera ingested with its EXIF, a
document rendered with its embedded font, a simulated instrument read through the real reader (over a
local TCP socket: the same on Windows), the custody chain verified. One line per check; exit 0 when
all pass. Nothing of the officer's data is touched."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from kit_app.i18n import _


def run(out: Callable[[str], None] = print) -> int:
    failed = 0

    def check(name: str, fn: Callable[[], str]) -> Any:
        nonlocal failed
        t = time.perf_counter()
        try:
            detail = fn()
        except Exception as exc:  # a self-test reports every failure, whatever it is, and goes on
            failed += 1
            out(_("FAIL  {name}: {error}").format(name=name, error=f"{type(exc).__name__}: {exc}"[:300]))
            return None
        out(_("ok    {name}: {detail} ({ms:.0f} ms)").format(name=name, detail=detail,
                                                           ms=(time.perf_counter() - t) * 1000))
        return detail

    with tempfile.TemporaryDirectory(prefix="kit-selftest-") as tmp:
        state: dict[str, Any] = {}
        check(_("store and migrations"), lambda: _store(Path(tmp), state))
        if "store" in state:
            check(_("photo from the simulated camera"), lambda: _photo(Path(tmp), state))
            check(_("custody chain"), lambda: _verify(state))
            state["store"].close()
        check(_("document rendering"), _document)
        check(_("simulated instrument (HJ 212)"), _instrument)
    out(_("Self-test passed.") if not failed else _("Self-test FAILED: {n} checks.").format(n=failed))
    return 0 if not failed else 1


def _store(tmp: Path, state: dict[str, Any]) -> str:
    from kit_app.db.store import head_revision
    from kit_app.services.demo import DEMO_PASSWORD, DemoGenerator
    from kit_app.services.vault import Vault

    # encrypted, as every kit's data dir: SQLCipher and the sealed originals are part of the installation
    store = Vault(tmp / "data").create_empty("GXADMIN001", DEMO_PASSWORD)
    state["store"] = store
    if store.current_revision() != head_revision():
        raise RuntimeError(_("the database is at {have}, not {want}").format(have=store.current_revision(),
                                                                              want=head_revision()))
    DemoGenerator(store, seed=1).generate(10, 0)
    if store.key is None or (tmp / "data" / "kit.sqlite3").read_bytes()[:16] == b"SQLite format 3\x00":
        raise RuntimeError(_("the database is not encrypted"))
    return _("revision {rev}, encrypted, demo officers and sources").format(rev=head_revision())


def _photo(tmp: Path, state: dict[str, Any]) -> str:
    from devices.camera import jpeg_with_exif
    from devices.sim.camera import LOCAL, SyntheticCamera
    from kit_app.evidence.service import EvidenceService
    from kit_app.services.cases import CaseService
    from kit_app.services.officers import OfficerService

    store = state["store"]
    officer = OfficerService(store).login("45010320231", "demo1234")
    case = CaseService(store).create(party="自检当事人", title="自检", actor=officer)
    when = datetime.now(LOCAL).replace(microsecond=0)
    frame = SyntheticCamera(640, 360, 25, seed=1).frame(1, when)
    shot = tmp / "selftest.jpg"
    shot.write_bytes(jpeg_with_exif(frame, when, make="Enforcement Evidence Kit", model="KIT-CAM SIM", serial="SELF",
                                    gps={"fix": True, "latitude": 22.8167, "longitude": 108.3669, "altitude": 80.0}))
    ev = EvidenceService(store)
    (res,) = ev.ingest(case.id, officer, [shot])
    if res.status != "ok":
        raise RuntimeError(res.error or res.status)
    item = ev.show(res.evidence_id or "")
    if item["captured_at"] is None or item["latitude"] is None or not ev.thumb_path(item["sha256"]).exists():
        raise RuntimeError(_("the photo's time, place or thumbnail is missing"))
    state["evidence"] = ev
    return _("SHA-256 {sha}…, EXIF time and place read, thumbnail made").format(sha=item["sha256"][:12])


def _verify(state: dict[str, Any]) -> str:
    rep = state["evidence"].verify()
    if not rep.ok:
        raise RuntimeError("; ".join(p.detail for p in rep.problems))
    return _("{files} files, {events} events verified").format(files=rep.files_checked, events=rep.events_checked)


def _document() -> str:
    import forms
    from reports import render

    res = render(forms.get("inspection_record"), forms.get("inspection_record").example, specimen=True)
    if not res.pdf.startswith(b"%PDF") or b"/FontFile2" not in res.pdf:
        raise RuntimeError(_("the PDF or its embedded font is missing"))
    return _("{pages} pages, font embedded").format(pages=res.pages)


def _instrument() -> str:
    """The simulator's packets, some garbage between them, streamed on a local socket and read by the
    reader the devices pane uses."""
    import random

    from devices.reader import readings
    from devices.sim.__main__ import hj212_messages

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    packets = hj212_messages(random.Random(1), "SELFTEST0000001", 0.0)

    done = threading.Event()

    trouble: list[BaseException] = []

    def serve() -> None:
        try:
            conn, _addr = server.accept()
            with conn:  # a packet every 100 ms, as an instrument streams, until three were read
                # (what arrives while the port is being opened is flushed by it: the first ones may go)
                while not done.wait(0.1):
                    conn.sendall(b"\x00garbage" + next(packets))
        except BaseException as exc:  # said by the check, not lost in the thread  # noqa: BLE001
            trouble.append(exc)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    from devices.items import Reading

    got: list[Reading] = []
    try:
        for r in readings(f"socket://127.0.0.1:{port}", "hj212", timeout=5):
            if isinstance(r, Reading) and r.valid:
                got.append(r)
            if len(got) == 3:
                break
    except Exception:
        if trouble:  # the simulator failed: that is the error to name
            raise trouble[0] from None
        raise
    finally:
        done.set()
        server.close()
    values = got[0].fields.get("pollutants") if got else None
    if len(got) != 3 or not values:
        raise RuntimeError(_("{n} of 3 packets read").format(n=len(got)))
    return _("3 packets read, {n} pollutants each, damaged bytes skipped").format(n=len(values))


__all__ = ["run"]
