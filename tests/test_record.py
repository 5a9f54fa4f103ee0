"""record.py: the render path's value classes behave as the standard library's they stand in for."""

from __future__ import annotations

import typing

import pytest

from zdrender import record


def sample(base: type) -> type:
    class Amount(base):  # type: ignore[misc,valid-type]
        """An amount."""

        number: int
        percent: bool = False
        unit: str = "pods"

        def doubled(self) -> int:
            return self.number * 2

        @property
        def value(self) -> int | str:
            return f"{self.number}%" if self.percent else self.number

        @classmethod
        def of(cls, text: str) -> Amount:
            return cls(int(text.rstrip("%")), text.endswith("%"))

        def __str__(self) -> str:
            return str(self.value)

    return Amount


OURS, TYPING = sample(record.NamedTuple), sample(typing.NamedTuple)


@pytest.mark.parametrize("make", [lambda c: c(3), lambda c: c(3, True), lambda c: c.of("25%"), lambda c: c(number=1, unit="x")])
def test_named_tuple_builds_what_typing_builds(make):
    ours, theirs = make(OURS), make(TYPING)
    assert (repr(ours), str(ours), tuple(ours), ours.doubled(), ours.value) == (repr(theirs), str(theirs), tuple(theirs), theirs.doubled(), theirs.value)
    assert isinstance(ours, tuple) and hash(ours) == hash(tuple(theirs)) and ours == tuple(theirs)
    assert ours._replace(number=9) == theirs._replace(number=9) and ours._asdict() == theirs._asdict()


def test_named_tuple_class_attributes():
    for attribute in ("__doc__", "__name__", "_fields", "_field_defaults"):
        assert getattr(OURS, attribute) == getattr(TYPING, attribute), attribute
    assert OURS.__module__ == TYPING.__module__ == __name__
    assert OURS.__qualname__ == TYPING.__qualname__
    assert sorted([OURS(2), OURS(1, True), OURS(1)]) == [OURS(1), OURS(1, True), OURS(2)]
    with pytest.raises(TypeError):
        OURS()  # number has no default


class Point(record.Record):
    __slots__ = ("x", "y")

    def __init__(self, x: int, y: list[int]):
        self.x, self.y = x, y


def test_record_equality_and_repr_are_a_dataclass_s():
    assert Point(1, [2]) == Point(1, [2]) and Point(1, [2]) != Point(1, [3])
    assert repr(Point(1, [2])) == "Point(x=1, y=[2])"
    assert Point(1, [2]).__eq__((1, [2])) is NotImplemented
    with pytest.raises(TypeError):
        hash(Point(1, [2]))  # mutable, like a dataclass without frozen=True
