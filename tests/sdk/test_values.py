"""The SDK's plain values: cards from the original's dict form, and reconnect delays."""

from __future__ import annotations

import pytest
from agentregistry import AgentCard, Skill
from agentregistry.backoff import Backoff
from agentregistry.registry import card_of


def test_dict_card_takes_capability_and_capabilities_in_either_form() -> None:
    card = AgentCard.from_dict(
        {
            "name": "coder",
            "capability": "code generation",
            "capabilities": "code review",
            "skills": [{"id": "s", "name": "lint", "tags": "style"}, Skill(id="t", name="test")],
            "labels": {"team": 7},
        }
    )
    assert card.capabilities == ("code generation", "code review")
    assert card.skills == (Skill(id="s", name="lint", tags=("style",)), Skill(id="t", name="test"))
    assert card.labels == {"team": "7"}
    assert AgentCard.from_dict(card.to_original_dict()) == card
    # The A2A form is the card alone: phrases and labels are registry metadata beside it.
    assert "labels" not in card.to_dict() and "capabilities" not in card.to_dict()


def test_dict_card_rejects_a_capability_that_is_not_text() -> None:
    with pytest.raises(TypeError, match="capabilities must be a string or a list of strings"):
        AgentCard.from_dict({"capabilities": 42})


def test_card_of_reads_a2a_card_attributes() -> None:
    class Legacy:
        a2a_card = {"capability": "translation"}

    class Modern:
        _a2a_card = AgentCard(name="m")

    assert card_of(Legacy()).capabilities == ("translation",)
    assert card_of(Modern()) == AgentCard(name="m")


def test_backoff_is_full_jitter_under_a_doubling_cap_and_resets() -> None:
    backoff = Backoff(0.1, 1.0)
    caps = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    for cap in caps:
        assert 0 <= backoff.next_delay() <= cap
    assert max(Backoff(0.1, 1.0).next_delay() for _ in range(200)) > 0.05  # spread, not constant
    backoff.reset()
    assert backoff.next_delay() <= 0.1
