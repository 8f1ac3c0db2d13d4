"""Every flow, by name."""

from __future__ import annotations

from conversations.flow import Flow
from conversations.flows import (
    activity,
    incident,
    language,
    officer,
    records,
    tip,
    urgent,
    voice,
    weekly,
)


def all_flows() -> dict[str, Flow]:
    flows = [
        incident.FLOW,
        urgent.FLOW,
        activity.FLOW,
        weekly.QUIET,
        weekly.FULL,
        tip.FLOW,
        tip.MORE,
        language.FLOW,
        officer.NOTE,
        officer.CLOSE,
        officer.QUESTION,
        records.ADD,
        records.UPDATE,
        records.COMMITMENT,
        records.RECOGNITION,
        voice.FLOW,
    ]
    return {flow.name: flow for flow in flows}
