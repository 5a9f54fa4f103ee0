"""Value classes for the render path without the standard library's costly imports.

A render's start-up is paid by Helm on every release, and most of it is Python and PyYAML. Of what
was left, importing `dataclasses` (with the `inspect`, `ast`, `dis` and `tokenize` it imports) cost
~39 M instructions, each dataclass ~2 M more, and `typing` ~15 M (with contextlib, which it imports):
about a quarter of a 3 KB render's 279 M. So the render path's modules use:

- `Record`: the equality and repr a dataclass gives, for plain classes that list their fields in
  `__slots__` and write their own `__init__` (finding, stream, pipeline);
- `NamedTuple`: what `typing.NamedTuple`'s class syntax builds, for immutable values;
- `TYPE_CHECKING = False` and `if TYPE_CHECKING:` for typing's names, which type checkers read as
  typing's own (mypy and pyright treat any `TYPE_CHECKING` so).

tests/test_entry.py keeps these imports off the render path; tests/test_record.py compares NamedTuple
with typing's.
"""

from __future__ import annotations

import sys
from collections import namedtuple


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


class _NamedTupleType(type):
    """What `typing.NamedTuple`'s class syntax builds: collections.namedtuple with the class body's
    defaults, methods and docstring. Modules import it in the `else` of `if TYPE_CHECKING:`, so type
    checkers see typing's."""

    def __new__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, object]) -> type:
        if not bases:  # NamedTuple itself
            return super().__new__(cls, name, bases, namespace)
        if "__annotations__" not in namespace and sys.version_info >= (3, 14):  # deferred there (PEP 649)
            raise TypeError(f"{name}: record.NamedTuple reads the class body's annotations; add `from __future__ import annotations`")
        fields = list(namespace.get("__annotations__", {}))  # type: ignore[call-overload]
        defaults = [namespace[field] for field in fields if field in namespace]
        built = namedtuple(name, fields, defaults=defaults, module=str(namespace["__module__"]))  # type: ignore[misc]
        for key, value in namespace.items():
            if key not in fields and key not in ("__annotations__", "__module__", "__qualname__"):
                setattr(built, key, value)
        built.__qualname__ = str(namespace.get("__qualname__", name))
        return built


class NamedTuple(metaclass=_NamedTupleType):
    pass
