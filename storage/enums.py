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
    MASS_COMPLAINT = "mass_complaint"  # unlawful, over-level: a criteria flag
    LAWFUL_COMPLAINT = "lawful_complaint"  # many people complaining lawfully: counted, no flag
    POLITICAL = "political"  # an ninh chính trị, dân tộc, tôn giáo
    HOTSPOT = "hotspot"  # tụ điểm phức tạp về trật tự xã hội: a criteria flag
    SOCIAL_EVIL = "social_evil"
    OTHER = "other"
    UNCLASSIFIED = "unclassified"  # a voice-only report, until an officer classifies it


# What a reporter chooses from; UNCLASSIFIED is only ever set by a voice-only report.
REPORTED_CATEGORIES = tuple(c for c in IncidentCategory if c != IncidentCategory.UNCLASSIFIED)


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
    DIALOGUE = "dialogue"  # đối thoại với nhân dân
    MOVEMENT_DAY = "movement_day"  # Ngày hội toàn dân bảo vệ ANTQ, 19 August
    OFFENDER_EDUCATION = "offender_education"  # quản lý, giáo dục, cảm hóa đối tượng tại nhà
    COMMENDATION = "commendation"  # khen thưởng
    COMMITMENT = "commitment"
    MODEL = "model"
    OTHER = "other"


# Kinds kept for old reports only: commitments and models now have their own registers
# (storage.movement), so the activity report no longer offers them.
REGISTER_KINDS = (ActivityKind.COMMITMENT, ActivityKind.MODEL)
REPORTED_KINDS = tuple(k for k in ActivityKind if k not in REGISTER_KINDS)


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
    "persons_educated",
    "commended",
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
    ActivityKind.DIALOGUE: ("sessions", "attendees"),
    ActivityKind.MOVEMENT_DAY: ("attendees",),
    ActivityKind.OFFENDER_EDUCATION: ("persons_educated",),
    ActivityKind.COMMENDATION: ("commended",),
    ActivityKind.COMMITMENT: ("households_signed", "households_total"),
    ActivityKind.MODEL: ("models_active", "models_new"),
    ActivityKind.OTHER: (),
}


class ModelKind(StrEnum):
    """Kinds of the movement's models ("mô hình"); OTHER takes a typed name of its kind."""

    SELF_GOVERNING = "self_governing"  # Tổ nhân dân tự quản về ANTT
    SECURITY_LIGHT = "security_light"  # Bóng đèn an ninh
    CAMERA = "camera"  # Camera an ninh
    GONG = "gong"  # Tiếng kẻng an ninh
    CRIME_FREE_CLAN = "crime_free_clan"  # Dòng họ không có tội phạm
    TWO_PLUS_ONE = "two_plus_one"  # 2+1
    WOMEN_LAW_CLUB = "women_law_club"  # CLB Phụ nữ với pháp luật
    FIRE_SAFETY = "fire_safety"  # Tổ liên gia an toàn PCCC
    DIGITAL_TEAM = "digital_team"  # Tổ công nghệ số cộng đồng
    THREE_GOOD = "three_good"  # CLB Ba tốt, ba giảm
    OTHER = "other"


class CommitmentKind(StrEnum):
    """Who signs the safety commitment ("ký cam kết"): counted signed of total, per year."""

    HOUSEHOLDS = "households"
    AGENCIES = "agencies"
    BUSINESSES = "businesses"
    SCHOOLS = "schools"
    CONDITIONAL = "conditional"  # cơ sở kinh doanh có điều kiện về ANTT


class UnitKind(StrEnum):
    """Units recognised each year as "an toàn về ANTT"."""

    AREAS = "areas"  # khu dân cư
    AGENCIES = "agencies"
    SCHOOLS = "schools"


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
    CLASSIFY = "classify"  # the note holds the category set


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
