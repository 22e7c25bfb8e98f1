"""The status rule, in one place.

An agent has a health, decided by the registry alone from what it observes (registrations, heartbeats,
self-reports, timeouts, streams), and an optional operator setting (DEGRADED, UNHEALTHY or OFFLINE). Its
effective status, the one discovery filters on, is the worse of the two in the order
ACTIVE < DEGRADED < UNHEALTHY < OFFLINE; on a tie the operator's setting names the reason. So a dead agent
is never ACTIVE or DEGRADED because an operator said so, and when health recovers the setting applies again.

`HEALTH` is the whole health rule: (trigger, current health) -> new health and reason; a missing entry
means the trigger changes nothing. Operator triggers only set or clear the setting.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AgentStatus(enum.IntEnum):
    ACTIVE = 1
    DEGRADED = 2
    UNHEALTHY = 3
    OFFLINE = 4


class StatusReason(enum.IntEnum):
    REGISTERED = 1
    OPERATOR = 2
    SELF_REPORTED = 3
    HEARTBEAT_TIMEOUT = 4
    STREAM_LOST = 5
    STREAM_CLOSED = 6
    HEARTBEAT_RESUMED = 7


ACTIVE, DEGRADED, UNHEALTHY, OFFLINE = (
    AgentStatus.ACTIVE,
    AgentStatus.DEGRADED,
    AgentStatus.UNHEALTHY,
    AgentStatus.OFFLINE,
)


class Trigger(enum.Enum):
    REGISTER = "register"  # a registration, or a re-registration (which counts as a beat)
    BEAT = "beat"  # a heartbeat without a self-report
    REPORT_ACTIVE = "report_active"  # a heartbeat carrying ACTIVE
    REPORT_DEGRADED = "report_degraded"  # a heartbeat carrying DEGRADED
    TIMEOUT = "timeout"  # no heartbeat within the heartbeat timeout
    STREAM_LOST = "stream_lost"  # the stream broke, or did not come back within the rebind grace
    STREAM_CLOSED = "stream_closed"  # the runtime half-closed its stream
    OPERATOR_DEGRADED = "operator_degraded"
    OPERATOR_UNHEALTHY = "operator_unhealthy"
    OPERATOR_OFFLINE = "operator_offline"
    OPERATOR_CLEAR = "operator_clear"  # UpdateAgentStatus(ACTIVE)


_RESUMED = (ACTIVE, StatusReason.HEARTBEAT_RESUMED)
_SELF_DEGRADED = (DEGRADED, StatusReason.SELF_REPORTED)
_TIMED_OUT = (UNHEALTHY, StatusReason.HEARTBEAT_TIMEOUT)
_LOST = (UNHEALTHY, StatusReason.STREAM_LOST)
_CLOSED = (OFFLINE, StatusReason.STREAM_CLOSED)

HEALTH: dict[tuple[Trigger, AgentStatus], tuple[AgentStatus, StatusReason]] = {
    (Trigger.REGISTER, UNHEALTHY): (ACTIVE, StatusReason.REGISTERED),
    (Trigger.REGISTER, OFFLINE): (ACTIVE, StatusReason.REGISTERED),
    (Trigger.BEAT, UNHEALTHY): _RESUMED,
    (Trigger.BEAT, OFFLINE): _RESUMED,
    (Trigger.REPORT_ACTIVE, DEGRADED): (ACTIVE, StatusReason.SELF_REPORTED),
    (Trigger.REPORT_ACTIVE, UNHEALTHY): _RESUMED,
    (Trigger.REPORT_ACTIVE, OFFLINE): _RESUMED,
    (Trigger.REPORT_DEGRADED, ACTIVE): _SELF_DEGRADED,
    (Trigger.REPORT_DEGRADED, UNHEALTHY): _SELF_DEGRADED,
    (Trigger.REPORT_DEGRADED, OFFLINE): _SELF_DEGRADED,
    (Trigger.TIMEOUT, ACTIVE): _TIMED_OUT,
    (Trigger.TIMEOUT, DEGRADED): _TIMED_OUT,
    (Trigger.STREAM_LOST, ACTIVE): _LOST,
    (Trigger.STREAM_LOST, DEGRADED): _LOST,
    (Trigger.STREAM_CLOSED, ACTIVE): _CLOSED,
    (Trigger.STREAM_CLOSED, DEGRADED): _CLOSED,
    (Trigger.STREAM_CLOSED, UNHEALTHY): _CLOSED,
}

OPERATOR: dict[Trigger, AgentStatus | None] = {
    Trigger.OPERATOR_DEGRADED: DEGRADED,
    Trigger.OPERATOR_UNHEALTHY: UNHEALTHY,
    Trigger.OPERATOR_OFFLINE: OFFLINE,
    Trigger.OPERATOR_CLEAR: None,
}

_SELF_REPORTS = {ACTIVE: Trigger.REPORT_ACTIVE, DEGRADED: Trigger.REPORT_DEGRADED}
_OPERATOR_TRIGGERS = {
    ACTIVE: Trigger.OPERATOR_CLEAR,
    DEGRADED: Trigger.OPERATOR_DEGRADED,
    UNHEALTHY: Trigger.OPERATOR_UNHEALTHY,
    OFFLINE: Trigger.OPERATOR_OFFLINE,
}


@dataclass(frozen=True, slots=True)
class Change:
    """What a trigger makes of an agent's health and operator setting, and the reason to report."""

    health: AgentStatus
    health_reason: StatusReason
    operator: AgentStatus | None
    reason: StatusReason


def effective(health: AgentStatus, operator: AgentStatus | None) -> AgentStatus:
    """The worse of health and the operator setting."""
    return operator if operator is not None and operator >= health else health


def effective_reason(
    health: AgentStatus, health_reason: StatusReason, operator: AgentStatus | None
) -> StatusReason:
    """OPERATOR when the setting decides the effective status (ties included), else the health's reason."""
    return StatusReason.OPERATOR if operator is not None and operator >= health else health_reason


def apply(
    trigger: Trigger, health: AgentStatus, health_reason: StatusReason, operator: AgentStatus | None
) -> Change | None:
    """What `trigger` changes; None when it changes nothing (a plain beat of a healthy agent: one lookup)."""
    if trigger in OPERATOR:
        setting = OPERATOR[trigger]
        if setting is operator:
            return None
        return Change(health, health_reason, setting, StatusReason.OPERATOR)
    new = HEALTH.get((trigger, health))
    if new is None:
        return None
    return Change(new[0], new[1], operator, new[1])


def unchanged_by(trigger: Trigger) -> frozenset[AgentStatus]:
    """The healths a health trigger leaves as they are: the heartbeat path skips those agents with one set
    lookup (derived from `HEALTH`, not a second copy of the rule)."""
    return _UNCHANGED[trigger]


def beat_trigger(self_report: AgentStatus | None) -> Trigger:
    """The trigger of a heartbeat that carries `self_report` (None: reports nothing)."""
    return Trigger.BEAT if self_report is None else _SELF_REPORTS[self_report]


def operator_trigger(status: AgentStatus) -> Trigger:
    """The trigger of UpdateAgentStatus(status): ACTIVE clears the setting."""
    return _OPERATOR_TRIGGERS[status]


SELF_REPORTABLE = frozenset(_SELF_REPORTS)
_UNCHANGED = {
    trigger: frozenset(h for h in AgentStatus if (trigger, h) not in HEALTH)
    for trigger in Trigger
    if trigger not in OPERATOR
}
