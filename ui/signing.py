"""How the party signed a paper, in the document editor: signed, refused (reason, witness, photo),
absent (witness) or, for a service receipt, refused to accept and left with a witness (留置送达).
The core checks it (``forms`` field type ``signing``) and prints it on the paper."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from forms import FieldDef
from kit_app.i18n import N_, _

STATUS_LABELS = {
    "signed": N_("Signed by the party"),
    "refused": N_("The party refused to sign"),
    "absent": N_("The party is absent"),
    "left": N_("Refused to accept: left at the place with a witness"),
}


class SigningBox(QWidget):
    """The status, and for a refusal or an absence the reason, the witness and the photo."""

    def __init__(self, f: FieldDef, changed: Any) -> None:
        super().__init__()
        self.status = QComboBox()
        self.status.setObjectName(f"field_{f.name}_status")
        for st in f.signing_statuses():
            self.status.addItem(_(STATUS_LABELS[st]), st)
        self.reason = QLineEdit()
        self.reason.setMaxLength(200)
        self.reason.setObjectName(f"field_{f.name}_reason")
        self.reason.setPlaceholderText(_("in the party's own words"))
        self.witness = QLineEdit()
        self.witness.setMaxLength(40)
        self.witness.setObjectName(f"field_{f.name}_witness")
        self.witness_id_no = QLineEdit()
        self.witness_id_no.setMaxLength(18)
        self.witness_unit = QLineEdit()
        self.witness_unit.setMaxLength(100)
        self.witness_unit.setPlaceholderText(_("employer and position, or address"))
        self.photo = QComboBox()
        self.photo.setObjectName(f"field_{f.name}_photo")
        self.photo.addItem(_("(no photo)"), None)
        self.details = QWidget()
        form = QFormLayout(self.details)
        form.setContentsMargins(0, 0, 0, 0)
        self._reason_label = _("Reason")
        form.addRow(self._reason_label, self.reason)
        form.addRow(_("Witness"), self.witness)
        form.addRow(_("Witness's ID number"), self.witness_id_no)
        form.addRow(_("Witness's employer or address"), self.witness_unit)
        form.addRow(_("Photo or video of it"), self.photo)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.status)
        lay.addWidget(self.details)
        self._photos: dict[str, str] = {}
        self._update()
        self.status.currentIndexChanged.connect(self._update)
        self.status.currentIndexChanged.connect(changed)
        self.photo.currentIndexChanged.connect(changed)
        for w in (self.reason, self.witness, self.witness_id_no, self.witness_unit):
            w.textChanged.connect(changed)

    def _update(self) -> None:
        st = self.status.currentData()
        self.details.setVisible(st != "signed")
        self.reason.setEnabled(st in ("refused", "left"))

    def mark(self, part: str) -> None:
        """Outline the part that is wrong (reason, witness, status…), and only it."""
        names = ("status", "reason", "witness", "witness_id_no", "witness_unit", "photo")
        target = part if part in names else "status" if part else ""  # the whole field: its status
        for name in names:
            getattr(self, name).setStyleSheet("border: 1px solid #d32f2f;" if name == target else "")

    def set_photos(self, photos: list[dict[str, str]]) -> None:
        """The case's photos and clips (id, label, printed), newest first."""
        keep = self.photo.currentData()
        self.photo.blockSignals(True)
        self.photo.clear()
        self.photo.addItem(_("(no photo)"), None)
        for p in photos:
            self.photo.addItem(p["label"], p["id"])
        self._photos = {p["id"]: p["printed"] for p in photos}
        if keep:
            self.photo.setCurrentIndex(max(0, self.photo.findData(keep)))
        self.photo.blockSignals(False)

    def set(self, value: dict[str, Any]) -> None:
        self.status.setCurrentIndex(max(0, self.status.findData(value.get("status", "signed"))))
        self.reason.setText(value.get("reason", ""))
        self.witness.setText(value.get("witness", ""))
        self.witness_id_no.setText(value.get("witness_id_no", ""))
        self.witness_unit.setText(value.get("witness_unit", ""))
        if value.get("photo"):
            i = self.photo.findData(value["photo"])
            if i < 0:  # the list may come later: keep the id until then
                self.photo.addItem(_("a photo of the case"), value["photo"])
                i = self.photo.count() - 1
            self.photo.setCurrentIndex(i)

    def value(self) -> dict[str, str] | None:
        st = self.status.currentData()
        if st == "signed":
            return None
        out = {"status": st, "reason": self.reason.text().strip() if self.reason.isEnabled() else "",
               "witness": self.witness.text().strip(), "witness_id_no": self.witness_id_no.text().strip(),
               "witness_unit": self.witness_unit.text().strip()}
        photo = self.photo.currentData()
        if photo:
            out |= {"photo": photo, "photo_label": self._photos.get(photo, "")}  # the core prints its own
        return {k: v for k, v in out.items() if v}
