"""IdentityMemo builds a message once per immutable value, and only for that very object."""

from __future__ import annotations

from registryd.api.memo import IdentityMemo


class Value:
    def __init__(self, n: int) -> None:
        self.n = n


def test_a_value_is_built_once_and_an_equal_other_object_is_built_again():
    built: list[int] = []
    memo = IdentityMemo(2, lambda v: built.append(v.n) or f"m{v.n}")
    first = Value(1)
    assert (memo(first), memo(first)) == ("m1", "m1")
    assert memo(Value(1)) == "m1" and built == [1, 1]


def test_the_oldest_entry_is_dropped_beyond_the_size():
    built: list[int] = []
    memo = IdentityMemo(2, lambda v: built.append(v.n) or v.n)
    a, b, c = Value(1), Value(2), Value(3)
    for value in (a, b, c, b, a):
        memo(value)
    assert built == [1, 2, 3, 1]  # b stayed cached, a was evicted by c
