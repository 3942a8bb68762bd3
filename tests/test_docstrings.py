"""The docstring examples of the tradewire package run and show what they print.

Examples are collected from the package as imported (the installed one in CI, the source tree
in development), module by module, so each module is imported once, under its own name.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from typing import TYPE_CHECKING

import pytest

import tradewire

if TYPE_CHECKING:
    from types import ModuleType


def _modules() -> list[ModuleType]:
    """Every module of the package (``__main__`` modules run a command and are left out)."""
    names = ["tradewire"] + [
        info.name
        for info in pkgutil.walk_packages(tradewire.__path__, "tradewire.")
        if not info.name.endswith(".__main__")
    ]
    return [importlib.import_module(name) for name in sorted(names)]


MODULES = _modules()
_FINDER = doctest.DocTestFinder(exclude_empty=True)
DOCTESTS = sorted(
    (test for module in MODULES for test in _FINDER.find(module) if test.examples),
    key=lambda test: test.name,
)


@pytest.mark.parametrize("example", DOCTESTS, ids=[test.name for test in DOCTESTS])
def test_docstring_examples(example: doctest.DocTest) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    result = runner.run(example, out=report.append)
    assert result.attempted == len(example.examples)
    assert result.failed == 0, "".join(report)


def test_every_example_in_the_sources_is_collected() -> None:
    """Each ``>>>`` line of a module's source is an example that runs (none out of reach)."""
    collected: dict[str, int] = {}
    for test in DOCTESTS:
        assert test.filename is not None
        collected[test.filename] = collected.get(test.filename, 0) + len(test.examples)
    in_sources: dict[str, int] = {}
    for module in MODULES:
        path = inspect.getsourcefile(module)
        if path is not None and path.endswith(".py"):
            lines = inspect.getsource(module).splitlines()
            count = sum(line.lstrip().startswith(">>>") for line in lines)
            if count:
                in_sources[path] = count
    assert collected == in_sources
    assert len(in_sources) >= 5  # the package does have examples, in several modules


def test_no_example_is_skipped() -> None:
    skipped = [
        f"{test.name} line {example.lineno}"
        for test in DOCTESTS
        for example in test.examples
        if example.options.get(doctest.SKIP)
    ]
    assert skipped == []
