"""Load a user's strategy class from ``path/to/file.py:ClassName``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from tradewire.errors import BacktestError
from tradewire.trading.strategy import Strategy

__all__ = ["load_strategy"]


def load_strategy(spec: str) -> type[Strategy]:
    """The :class:`Strategy` subclass named by ``spec``: ``file.py:ClassName`` (a file) or
    ``package.module:ClassName`` (an importable module).

    Raises:
        BacktestError: the file or module cannot be loaded, has no such class, or the class is
            not a ``Strategy``.
    """
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise BacktestError(
            f"a strategy is 'file.py:ClassName' or 'module:ClassName', not {spec!r}"
        )
    path = Path(where)
    try:
        if path.suffix == ".py":
            if not path.is_file():
                raise BacktestError(f"no strategy file {where!r}")
            module_name = f"tradewire_user_{path.stem}"
            loader_spec = importlib.util.spec_from_file_location(module_name, path)
            if loader_spec is None or loader_spec.loader is None:
                raise BacktestError(f"cannot load {where!r} as Python")
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[module_name] = module
            loader_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except BacktestError:
        raise
    except Exception as e:  # the user's module failed to import: say where and why
        raise BacktestError(f"loading {where!r} failed: {type(e).__name__}: {e}") from e
    cls = getattr(module, name, None)
    if cls is None:
        raise BacktestError(f"{where!r} has no {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise BacktestError(f"{spec!r} is not a tradewire Strategy subclass")
    return cls
