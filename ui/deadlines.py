"""How a deadline and a case's stage read in the window (Qt-free text, shared by the case
overview and the procedure dialog)."""

from __future__ import annotations

from html import escape

from kit_app.i18n import _
from kit_app.services.lifecycle import CaseStatus, DeadlineInfo

OVERDUE = "#c62828"
SOON = "#b26a00"


def deadline_text(d: DeadlineInfo) -> str:
    if d.met_on is not None:
        return _("done on {date}").format(date=d.met_on.isoformat())
    if d.kind == "wait":
        return _("the party's time ends {date}").format(date=d.due.isoformat()) if d.days_left >= 0 \
            else _("ended {date}").format(date=d.due.isoformat())
    if d.days_left < 0:
        text = _("{date}: overdue by {n} days").format(date=d.due.isoformat(), n=-d.days_left)
    elif d.days_left == 0:
        text = _("{date}: due today").format(date=d.due.isoformat())
    else:
        text = _("{date}: {n} days left").format(date=d.due.isoformat(), n=d.days_left)
    if d.surcharge_yuan:
        text += " · " + _("late payment surcharge {amount} yuan").format(amount=f"{d.surcharge_yuan:,.2f}")
    if d.estimated:
        text += " · " + _("estimated: the holiday calendar for that year is not published yet")
    return text


def deadline_colour(d: DeadlineInfo) -> str | None:
    if d.met_on is not None or d.kind == "wait":
        return None
    if d.days_left < 0:
        return OVERDUE
    if d.days_left <= 3:
        return SOON
    return None


def describe_status(st: CaseStatus) -> str:
    """The stage and open deadlines as HTML (the case overview shows it too)."""
    parts = [f"<p><b>{escape(_('Stage'))}:</b> {escape(st.state_label)}</p>"]
    open_ = [d for d in st.deadlines if d.met_on is None]
    if open_:
        parts.append("<ul>")
        for d in open_:
            colour = deadline_colour(d)
            text = escape(f"{d.label}: {deadline_text(d)}")
            parts.append(f"<li><span style='color:{colour}'>{text}</span></li>" if colour else f"<li>{text}</li>")
        parts.append("</ul>")
    return "".join(parts)
