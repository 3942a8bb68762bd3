"""A user's strategy from the command line: ``path/to/file.py:ClassName`` and ``NAME=VALUE``
parameters.

:func:`load_strategy` finds the class; :func:`make_strategy` builds it, turning each value
given as text into what the class's ``__init__`` annotates it as (``int``, ``float``,
``Decimal``, ``bool``, ``str``; anything else is passed as text), so
``--param fast=10 --param size=0.001`` reach ``__init__(self, fast: int, size: Decimal)`` as
``10`` and ``Decimal("0.001")``. Backtests, sweeps, paper and live runs load strategies here.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import typing
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire.errors import StrategyError
from tradewire.trading.strategy import Strategy

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = ["load_strategy", "make_strategy", "parse_params"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def load_strategy(spec: str) -> type[Strategy]:
    """The :class:`Strategy` subclass named by ``spec``: ``file.py:ClassName`` (a file) or
    ``package.module:ClassName`` (an importable module).

    Raises:
        StrategyError: the file or module cannot be loaded, has no such class, or the class is
            not a ``Strategy``.
    """
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise StrategyError(
            f"a strategy is 'file.py:ClassName' or 'module:ClassName', not {spec!r}"
        )
    path = Path(where)
    try:
        if path.suffix == ".py":
            if not path.is_file():
                raise StrategyError(f"no strategy file {where!r}")
            module_name = f"tradewire_user_{path.stem}"
            loader_spec = importlib.util.spec_from_file_location(module_name, path)
            if loader_spec is None or loader_spec.loader is None:
                raise StrategyError(f"cannot load {where!r} as Python")
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[module_name] = module
            loader_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except StrategyError:
        raise
    except Exception as e:  # the user's module failed to import: say where and why
        raise StrategyError(f"loading {where!r} failed: {type(e).__name__}: {e}") from e
    cls = getattr(module, name, None)
    if cls is None:
        raise StrategyError(f"{where!r} has no {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise StrategyError(f"{spec!r} is not a tradewire Strategy subclass")
    return cls


def parse_params(items: Iterable[str], option: str = "--param") -> dict[str, str]:
    """``NAME=VALUE`` items as a dict (a name given twice is an error)."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise StrategyError(f"{option} takes NAME=VALUE, not {item!r}")
        if name in params:
            raise StrategyError(f"{option} {name} is given twice")
        params[name] = value
    return params


def make_strategy(cls: type[Strategy], params: Mapping[str, object]) -> Strategy:
    """``cls(**params)``, text values converted to the types ``cls.__init__`` annotates.

    Raises:
        StrategyError: a value does not convert, or the class refuses the parameters (a name
            it does not take, one it needs and did not get, or an error its ``__init__``
            raised); the message names the class and the parameter.
    """
    hints = _init_hints(cls)
    kwargs: dict[str, object] = {}
    for name, value in params.items():
        convert = _CONVERTERS.get(hints.get(name, ""))
        if isinstance(value, str) and convert is not None:
            try:
                kwargs[name] = convert(value)
            except (ValueError, InvalidOperation):
                raise StrategyError(
                    f"{cls.__name__}: {name}={value!r} is not a valid {hints[name]}"
                ) from None
        else:
            kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise StrategyError(f"{cls.__name__}: {e}") from e
    except (ValueError, ArithmeticError) as e:
        raise StrategyError(f"{cls.__name__} refused its parameters: {e}") from e


def _init_hints(cls: type[Strategy]) -> dict[str, str]:
    """The names of the types ``cls.__init__`` annotates its parameters with."""
    init = cls.__init__
    try:
        hints: dict[str, Any] = typing.get_type_hints(init)
    except Exception:  # annotations naming what cannot be resolved: read them as written
        hints = dict(getattr(init, "__annotations__", {}))
    names: dict[str, str] = {}
    for name in inspect.signature(init).parameters:
        hint = hints.get(name)
        if hint is None:
            continue
        names[name] = hint if isinstance(hint, str) else getattr(hint, "__name__", "")
    return names


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(text)


def _decimal(text: str) -> Decimal:
    value = Decimal(text.strip())
    if not value.is_finite():
        raise ValueError(text)
    return value


_CONVERTERS: dict[str, Callable[[str], object]] = {
    "int": int,
    "float": float,
    "Decimal": _decimal,
    "bool": _boolean,
    "str": str,
}
