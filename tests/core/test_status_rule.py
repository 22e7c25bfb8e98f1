"""The status rule (registryd/core/status.py), as one table: trigger x health -> health and reason, and the
effective status of every health under every operator setting."""

from __future__ import annotations

import pytest

from registryd.core.model import AgentStatus, StatusReason
from registryd.core.status import Trigger, apply, effective, effective_reason

A, S, T = AgentStatus, StatusReason, Trigger
KEEP = None

# trigger: new health for a health of ACTIVE, DEGRADED (self-reported), UNHEALTHY, OFFLINE
HEALTH_RULE: dict[Trigger, tuple[tuple[AgentStatus, StatusReason] | None, ...]] = {
    T.REGISTER: (KEEP, KEEP, (A.ACTIVE, S.REGISTERED), (A.ACTIVE, S.REGISTERED)),
    T.BEAT: (KEEP, KEEP, (A.ACTIVE, S.HEARTBEAT_RESUMED), (A.ACTIVE, S.HEARTBEAT_RESUMED)),
    T.REPORT_ACTIVE: (
        KEEP,
        (A.ACTIVE, S.SELF_REPORTED),
        (A.ACTIVE, S.HEARTBEAT_RESUMED),
        (A.ACTIVE, S.HEARTBEAT_RESUMED),
    ),
    T.REPORT_DEGRADED: (
        (A.DEGRADED, S.SELF_REPORTED),
        KEEP,
        (A.DEGRADED, S.SELF_REPORTED),
        (A.DEGRADED, S.SELF_REPORTED),
    ),
    T.TIMEOUT: ((A.UNHEALTHY, S.HEARTBEAT_TIMEOUT), (A.UNHEALTHY, S.HEARTBEAT_TIMEOUT), KEEP, KEEP),
    T.STREAM_LOST: ((A.UNHEALTHY, S.STREAM_LOST), (A.UNHEALTHY, S.STREAM_LOST), KEEP, KEEP),
    T.STREAM_CLOSED: (
        (A.OFFLINE, S.STREAM_CLOSED),
        (A.OFFLINE, S.STREAM_CLOSED),
        (A.OFFLINE, S.STREAM_CLOSED),
        KEEP,
    ),
}
HEALTHS = (A.ACTIVE, A.DEGRADED, A.UNHEALTHY, A.OFFLINE)
SETTINGS = (None, A.DEGRADED, A.UNHEALTHY, A.OFFLINE)


@pytest.mark.parametrize("trigger", list(HEALTH_RULE))
@pytest.mark.parametrize("operator", SETTINGS)
def test_health_rule(trigger: Trigger, operator: AgentStatus | None):
    for health, expected in zip(HEALTHS, HEALTH_RULE[trigger], strict=True):
        change = apply(trigger, health, S.REGISTERED, operator)
        if expected is None:
            assert change is None, (trigger, health)
        else:
            assert change is not None and (change.health, change.health_reason) == expected
            assert change.operator is operator and change.reason is expected[1]  # health never moves it


@pytest.mark.parametrize(
    ("trigger", "setting"),
    [
        (T.OPERATOR_DEGRADED, A.DEGRADED),
        (T.OPERATOR_UNHEALTHY, A.UNHEALTHY),
        (T.OPERATOR_OFFLINE, A.OFFLINE),
        (T.OPERATOR_CLEAR, None),
    ],
)
def test_operator_triggers_set_only_the_setting(trigger: Trigger, setting: AgentStatus | None):
    for health in HEALTHS:
        for current in SETTINGS:
            change = apply(trigger, health, S.HEARTBEAT_TIMEOUT, current)
            if current is setting:
                assert change is None
            else:
                assert change is not None
                assert (change.health, change.health_reason) == (health, S.HEARTBEAT_TIMEOUT)
                assert (change.operator, change.reason) == (setting, S.OPERATOR)


# effective status: rows are health, columns the operator setting (none, DEGRADED, UNHEALTHY, OFFLINE)
EFFECTIVE = {
    A.ACTIVE: (A.ACTIVE, A.DEGRADED, A.UNHEALTHY, A.OFFLINE),
    A.DEGRADED: (A.DEGRADED, A.DEGRADED, A.UNHEALTHY, A.OFFLINE),
    A.UNHEALTHY: (A.UNHEALTHY, A.UNHEALTHY, A.UNHEALTHY, A.OFFLINE),
    A.OFFLINE: (A.OFFLINE, A.OFFLINE, A.OFFLINE, A.OFFLINE),
}


@pytest.mark.parametrize("health", HEALTHS)
def test_effective_status_is_the_worse_and_a_tie_is_the_operators(health: AgentStatus):
    for operator, expected in zip(SETTINGS, EFFECTIVE[health], strict=True):
        assert effective(health, operator) is expected
        operator_decides = operator is not None and operator >= health
        expected_reason = S.OPERATOR if operator_decides else S.STREAM_LOST
        assert effective_reason(health, S.STREAM_LOST, operator) is expected_reason
