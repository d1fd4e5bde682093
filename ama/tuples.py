"""``namedtuple`` for the modules ``ama status`` imports, without ``collections``.

``collections`` brings ``operator``, ``keyword``, ``reprlib`` and
``itertools`` with it: ~3 ms of a start-up-bound command. The classes made
here behave as those of ``collections.namedtuple`` for everything ama uses
(fields by name, positional and keyword construction, defaults, ``_make``,
``_replace``, ``_asdict``, ``_fields``, equality and hashing as tuples,
repr, pickling); tests/test_tuples.py compares the two.
"""

from __future__ import annotations

import sys

try:
    from _collections import _tuplegetter  # what collections.namedtuple uses
except ImportError:  # another Python: a plain property reads the same field

    def _tuplegetter(index: int, doc: str) -> property:
        return property(lambda self: self[index], doc=doc)


def namedtuple(typename: str, field_names: str, *, defaults: tuple = ()) -> type:
    """A tuple subclass named ``typename`` with fields ``field_names``
    (space-separated identifiers); ``defaults`` apply to the last fields."""
    fields = tuple(field_names.split())
    args = ", ".join(fields)
    namespace = {"_tuple_new": tuple.__new__}
    # __new__ with the fields as its own arguments, as collections builds it:
    # positional and keyword calls, and defaults, work as for any function.
    new = eval(f"lambda _cls, {args}: _tuple_new(_cls, ({args},))", namespace)
    new.__name__ = "__new__"
    new.__defaults__ = tuple(defaults) or None
    arity = len(fields)

    @classmethod
    def _make(cls, iterable):
        result = tuple.__new__(cls, iterable)
        if len(result) != arity:
            raise TypeError(f"Expected {arity} arguments, got {len(result)}")
        return result

    def _replace(self, **changes):
        result = self._make(map(changes.pop, fields, self))
        if changes:
            raise ValueError(f"Got unexpected field names: {list(changes)!r}")
        return result

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(" + ", ".join(f"{f}={v!r}" for f, v in zip(fields, self, strict=True)) + ")"

    def _asdict(self) -> dict:
        return dict(zip(fields, self, strict=True))

    def __getnewargs__(self) -> tuple:
        return tuple(self)

    body = {
        "__doc__": f"{typename}({args})",
        "__slots__": (),
        "_fields": fields,
        "_field_defaults": dict(zip(fields[arity - len(defaults) :], defaults, strict=True)) if defaults else {},
        "__new__": staticmethod(new),
        "_make": _make,
        "_replace": _replace,
        "__repr__": __repr__,
        "_asdict": _asdict,
        "__getnewargs__": __getnewargs__,
        "__match_args__": fields,
    }
    for i, name in enumerate(fields):
        body[name] = _tuplegetter(i, f"Alias for field number {i}")
    cls = type(typename, (tuple,), body)
    # Pickle finds the class by its module, as for collections.namedtuple.
    cls.__module__ = sys._getframe(1).f_globals.get("__name__", "__main__")
    return cls
