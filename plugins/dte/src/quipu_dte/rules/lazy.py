"""A lock-free ``cached_property`` for the per-validation objects of the rule engine."""

from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar, overload

__all__ = ["lazy"]

_T = TypeVar("_T")


class lazy(Generic[_T]):
    """Compute an attribute on first access and store it on the instance.

    Python 3.11's :class:`functools.cached_property` takes an ``RLock`` on every first
    access; a ``Ctx``/``Arithmetic`` lives in one thread for one validation and computes
    about 13 such values: 0.29 µs per first access here against 0.58 (issue 12).
    """

    def __init__(self, fn: Callable[[Any], _T]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> "Self | _T":
        if instance is None:
            return self
        # A non-data descriptor: once stored, the instance attribute wins and this
        # method is never called again for that instance.
        value = instance.__dict__[self.name] = self.fn(instance)
        return value
