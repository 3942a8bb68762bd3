"""The house rules that imports alone cannot show (import-linter checks the boundaries).

* Every exception class is defined in ``tradewire.errors``.
* No two public classes of the package share a name (the Rust core's included).
* ``tradewire.errors`` imports nothing of tradewire.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections import defaultdict
from pathlib import Path

import tradewire


def _modules() -> list[str]:
    names = ["tradewire"]
    for info in pkgutil.walk_packages(tradewire.__path__, "tradewire."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return sorted(set(names))


def _classes() -> list[type]:
    """Every class defined (not merely imported) in a module of the package."""
    found = []
    for name in _modules():
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ == name:
                found.append(obj)
    return found


def test_every_error_class_lives_in_errors() -> None:
    outside = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _classes()
        if issubclass(cls, BaseException) and cls.__module__ != "tradewire.errors"
    ]
    assert outside == []


def test_no_two_public_classes_share_a_name() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for cls in _classes():
        if not cls.__name__.startswith("_"):
            by_name[cls.__name__].append(cls.__module__)
    shared = {name: modules for name, modules in by_name.items() if len(modules) > 1}
    assert shared == {}


def test_the_walk_sees_the_whole_package() -> None:
    # The two checks above would pass vacuously if the walk found nothing.
    modules = _modules()
    assert {"tradewire.errors", "tradewire.exchange.server", "tradewire.cli.main"} <= set(modules)
    names = {cls.__name__ for cls in _classes()}
    assert {"OrderBook", "BinanceClient", "LocalExchange", "Runner", "PaperBroker"} <= names


def test_errors_imports_nothing_of_tradewire() -> None:
    import tradewire.errors

    source = Path(tradewire.errors.__file__).read_text(encoding="utf-8")
    imported = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported.append(node.module or "")
    assert [name for name in imported if name.split(".")[0] == "tradewire"] == []
    assert imported  # it does import something (``__future__``): the walk read the file
