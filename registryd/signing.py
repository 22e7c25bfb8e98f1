"""Signed agent cards (A2A 1.0, "Agent Card Signing"): a card's `signatures` are JWS with a detached
payload, the RFC 8785 (JCS) canonical form of the card's JSON with `signatures` removed. The JSON is the
card's ProtoJSON form, as the API returns it (camelCase, no default values). A card verifies when one
of its signatures verifies against a key of the operator's JSON Web Key Set (--card-keys); keys are never
fetched from what a card names (`jku`), since whoever forges a card can point it at their own key.

joserfc does JWS and JWK (a maintained implementation of the JOSE RFCs), rfc8785 the canonical form.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import rfc8785
from google.protobuf import json_format
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from registryd.api.convert import card_to_proto
from registryd.core.model import AgentCard

# Asymmetric algorithms only: a shared secret in the daemon's key file could also forge signatures.
ALGORITHMS = (
    "ES256",
    "ES384",
    "ES512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "Ed25519",
    "EdDSA",
)


class CardKeyError(Exception):
    """The key file cannot be used; the daemon does not start."""


def load_keys(path: Path) -> KeySet:
    """A JSON Web Key Set ({"keys": [...]}) of public keys."""
    try:
        document = json.loads(path.read_text())
        keys = KeySet.import_key_set(document)
    except OSError as error:
        raise CardKeyError(f"cannot read card_keys {path}: {error.strerror}") from None
    except (ValueError, TypeError, KeyError, JoseError) as error:
        raise CardKeyError(f"card_keys {path} is not a JSON Web Key Set: {error}") from None
    if not keys.keys:
        raise CardKeyError(f"card_keys {path} holds no keys")
    if any(key.key_type == "oct" for key in keys.keys):
        raise CardKeyError(
            f"card_keys {path}: symmetric (oct) keys cannot tell signers apart; use public keys"
        )
    return keys


def canonical_card(card: AgentCard) -> bytes:
    """What a card's signatures sign: JCS of its JSON form without `signatures`."""
    unsigned = json_format.MessageToDict(card_to_proto(replace(card, signatures=())))
    return rfc8785.dumps(unsigned)


def card_verifier(keys: KeySet) -> Callable[[AgentCard], bool]:
    def verified(card: AgentCard) -> bool:
        if not card.signatures:
            return False
        payload = canonical_card(card)
        for signature in card.signatures:
            try:
                jws.deserialize_compact(
                    f"{signature.protected}..{signature.signature}",
                    keys,
                    payload=payload,
                    algorithms=ALGORITHMS,
                )
            except (JoseError, ValueError, TypeError, KeyError):
                continue
            return True
        return False

    return verified
