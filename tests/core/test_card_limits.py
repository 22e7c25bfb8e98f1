"""validate_card names the field over its limit, whichever field it is: the fast bound for usual cards
must never let a card over a per-field limit through."""

from __future__ import annotations

from dataclasses import replace

import pytest

from registryd.core.errors import InvalidArgument
from registryd.core.model import (
    AgentCapabilities,
    AgentCard,
    AgentExtension,
    AgentInterface,
    AgentProvider,
    CardSignature,
    Skill,
)
from registryd.core.validation import Limits, card_size, validate_card

LIMITS = Limits()
SHORT, LONG = "s" * (LIMITS.max_text_length + 1), "l" * (LIMITS.max_description_length + 1)
BASE = AgentCard(name="agent", capabilities=("chat",))

CASES = [
    ("card.name", replace(BASE, name=SHORT)),
    ("card.description", replace(BASE, description=LONG)),
    ("card.version", replace(BASE, version=SHORT)),
    ("card.capabilities[1]", replace(BASE, capabilities=("chat", SHORT))),
    ("card.capabilities", replace(BASE, capabilities=("c",) * (LIMITS.max_capabilities + 1))),
    ("card.supported_interfaces[0].tenant", replace(BASE, supported_interfaces=(AgentInterface(tenant=SHORT),))),
    ("card.supported_interfaces[0].url", replace(BASE, supported_interfaces=(AgentInterface(url=LONG),))),
    ("card.provider.organization", replace(BASE, provider=AgentProvider(organization=SHORT))),
    ("card.icon_url", replace(BASE, icon_url=LONG)),
    ("card.capabilities.extensions[0].uri",
     replace(BASE, a2a_capabilities=AgentCapabilities(extensions=(AgentExtension(uri=LONG),)))),
    ("card.default_input_modes[0]", replace(BASE, default_input_modes=(SHORT,))),
    ("card.skills[1].id", replace(BASE, skills=(Skill(id="a"), Skill(id=SHORT)))),
    ("card.skills[0].tags[2]", replace(BASE, skills=(Skill(tags=("a", "b", SHORT)),))),
    ("card.skills[0].tags", replace(BASE, skills=(Skill(tags=("t",) * (LIMITS.max_tags_per_skill + 1)),))),
    ("card.skills[0].examples[0]", replace(BASE, skills=(Skill(examples=(LONG,)),))),
    ("card.skills[0].output_modes[0]", replace(BASE, skills=(Skill(output_modes=(SHORT,)),))),
    ("card.skills", replace(BASE, skills=(Skill(name="s"),) * (LIMITS.max_skills + 1))),
    ("card.signatures[0].signature", replace(BASE, signatures=(CardSignature(signature=LONG),))),
    ("card.labels['k']", replace(BASE, labels=(("k", "v" * LIMITS.max_label_length),))),
]  # fmt: skip


@pytest.mark.parametrize(("field", "card"), CASES, ids=[field for field, _ in CASES])
def test_the_field_over_its_limit_is_named(field: str, card: AgentCard) -> None:
    with pytest.raises(InvalidArgument) as raised:
        validate_card(card, LIMITS)
    assert raised.value.field == field


def test_a_long_description_within_its_own_limit_passes() -> None:
    validate_card(replace(BASE, description="d" * LIMITS.max_description_length), LIMITS)


def test_card_size_counts_utf8_bytes_of_every_text_json_parts_included() -> None:
    card = AgentCard(name="café", security_schemes='{"k":1}', labels=(("a", "b"),))
    assert card_size(card) == len("café".encode()) + len('{"k":1}') + 2
