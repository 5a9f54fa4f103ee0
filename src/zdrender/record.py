"""Record: the equality and repr a dataclass gives, for plain classes that list their fields in
`__slots__` and write their own `__init__`.

The value types on the render path (finding, stream, pipeline) are not dataclasses because importing
`dataclasses` pulls in `inspect`, `ast`, `dis` and `tokenize` (~10 ms) and each decorated class
compiles its methods at import (~0.5-1 ms): a render's start-up is paid by Helm on every release.
"""

from __future__ import annotations


class Record:
    __slots__: tuple[str, ...] = ()

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, slot) for slot in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclasses they replace

    def __repr__(self) -> str:
        fields = ", ".join(f"{slot}={getattr(self, slot)!r}" for slot in self.__slots__)
        return f"{type(self).__name__}({fields})"
