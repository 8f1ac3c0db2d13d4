"""The words of an alert about an incident, the same from the report that raises it and from
the scheduler that repeats it when nobody has taken it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from conversations.callbacks import CaseAction, Verb
from conversations.events import Button
from locales import t
from locales.text import hamlet_field, role_name
from storage.cases import case_code
from storage.enums import IncidentCategory, Severity
from storage.models import Incident, Person

# Who to call, by category: fire and rescue 114, ambulance 115, police 113 (DOMAIN.md).
EMERGENCY_NUMBERS: dict[str, tuple[str, ...]] = {
    IncidentCategory.FIRE: ("114", "113"),
    IncidentCategory.TRAFFIC: ("115", "113"),
}
DEFAULT_NUMBERS = ("113",)


def emergency_numbers(category: str) -> tuple[str, ...]:
    return EMERGENCY_NUMBERS.get(category, DEFAULT_NUMBERS)


def emergency_words(lang: str, category: str) -> str:
    """The numbers to call, as said: "114 hoặc 113"."""
    return t(lang, "number.or").join(emergency_numbers(category))


def map_link(latitude: float, longitude: float) -> str:
    return (
        f"https://www.openstreetmap.org/?mlat={latitude:.5f}&mlon={longitude:.5f}"
        f"#map=17/{latitude:.5f}/{longitude:.5f}"
    )


def alert_text(
    lang: str,
    incident: Incident,
    *,
    reporter: Person | None,
    tz: ZoneInfo,
    place: str | None = None,
    description: str | None = None,
    repeat_after_minutes: int | None = None,
) -> str:
    """An alert to officers: the code, what, where, when, who reported (with their phone:
    a hamlet head or team member reports in an official role), and whom to call."""
    urgent = incident.severity != Severity.ORDINARY
    code = case_code(incident)
    if repeat_after_minutes is not None:
        head = t(lang, "alert.repeat", code=code, minutes=repeat_after_minutes)
    else:
        key = "alert.urgent" if urgent else "alert.new_incident"
        head = t(lang, key, code=code, id=incident.id)
    at = incident.occurred_at.astimezone(tz)
    when = (
        at.strftime("%d/%m/%Y")
        if incident.occurred_precision == "day"
        else (at.strftime("%H:%M %d/%m/%Y"))
    )
    where = place or incident.place_text
    if incident.latitude is not None and incident.longitude is not None:
        where = t(lang, "alert.map", link=map_link(incident.latitude, incident.longitude))
    who = None
    if reporter is not None:
        kind = reporter.hamlet.label if reporter.hamlet is not None else None
        who = f"{reporter.full_name or ''}, {role_name(lang, reporter.role, kind)}"
        if reporter.phone:
            who = f"{who} ({reporter.phone})"
    facts = [
        (t(lang, "field.category"), t(lang, f"category.{incident.category}")),
        (t(lang, "field.severity"), t(lang, f"severity.{incident.severity}")),
        (hamlet_field(lang, incident.hamlet.label), incident.hamlet.name),
        (t(lang, "field.when"), when),
        (t(lang, "field.where"), where),
        (t(lang, "field.what"), description if description is not None else incident.description),
        (t(lang, "field.reporter"), who),
    ]
    lines = [head] + [f"{label}: {value}" for label, value in facts if value]
    if urgent:
        lines.append(t(lang, "alert.call", numbers=emergency_words(lang, incident.category)))
    return "\n".join(lines)


def alert_buttons(lang: str, incident: Incident) -> list[list[Button]]:
    return [[Button(t(lang, "alert.ack"), CaseAction(Verb.ACK, "i", incident.id).encode())]]
