"""Codes stored in the database. Labels live in the message catalogues, keyed by these codes."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    TEAM_MEMBER = "team_member"
    TEAM_LEAD = "team_lead"
    HAMLET_HEAD = "hamlet_head"
    OFFICER = "officer"
    ADMIN = "admin"


HAMLET_ROLES = {Role.TEAM_MEMBER, Role.TEAM_LEAD, Role.HAMLET_HEAD}
COMMUNE_ROLES = {Role.OFFICER, Role.ADMIN}


class TeamKind(StrEnum):
    SECURITY = "security"
    SELF_GOVERNING = "self_governing"
    FIRE_SAFETY = "fire_safety"
    MEDIATION = "mediation"
    OTHER = "other"


class Channel(StrEnum):
    TELEGRAM = "telegram"
    ZALO = "zalo"
    CONSOLE = "console"


class IncidentCategory(StrEnum):
    THEFT = "theft"
    DRUGS = "drugs"
    GAMBLING = "gambling"
    DISORDER = "disorder"
    TRAFFIC = "traffic"
    FIRE = "fire"
    DISPUTE = "dispute"
    DOMESTIC_VIOLENCE = "domestic_violence"
    LOAN_SHARK = "loan_shark"
    ONLINE_FRAUD = "online_fraud"
    SUSPICIOUS = "suspicious"
    MASS_COMPLAINT = "mass_complaint"
    SOCIAL_EVIL = "social_evil"
    OTHER = "other"


class Severity(StrEnum):
    ORDINARY = "ordinary"
    URGENT = "urgent"
    SERIOUS = "serious"


class ActivityKind(StrEnum):
    PATROL = "patrol"
    OUTREACH = "outreach"
    MEDIATION = "mediation"
    MEETING = "meeting"
    FIRE_DRILL = "fire_drill"
    REINTEGRATION = "reintegration"
    COMMITMENT = "commitment"
    MODEL = "model"
    OTHER = "other"


# Every figure column of Activity, in the order they are asked.
FIGURES = (
    "shifts",
    "people_count",
    "sessions",
    "attendees",
    "cases",
    "cases_successful",
    "participants",
    "persons_helped",
    "households_total",
    "households_signed",
    "models_active",
    "models_new",
)
# The figures each activity type records (columns of Activity).
ACTIVITY_FIGURES: dict[ActivityKind, tuple[str, ...]] = {
    ActivityKind.PATROL: ("shifts", "people_count"),
    ActivityKind.OUTREACH: ("sessions", "attendees"),
    ActivityKind.MEDIATION: ("cases", "cases_successful"),
    ActivityKind.MEETING: ("attendees",),
    ActivityKind.FIRE_DRILL: ("participants",),
    ActivityKind.REINTEGRATION: ("persons_helped",),
    ActivityKind.COMMITMENT: ("households_signed", "households_total"),
    ActivityKind.MODEL: ("models_active", "models_new"),
    ActivityKind.OTHER: (),
}


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS)


class RecordKind(StrEnum):
    INCIDENT = "incident"
    ACTIVITY = "activity"
    WEEKLY = "weekly"
    TIP = "tip"


class HistoryEntry(StrEnum):
    """Kinds of entry in a case's history."""

    STATUS = "status"
    NOTE = "note"
    ASSIGN = "assign"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
