"""The points of a sweep: the grid of parameter values, or a seeded random sample of it.

>>> space = parse_space(["grids=10,20", "lower=56000,57000"])
>>> for point in grid_points(space):
...     print(point)
{'grids': '10', 'lower': '56000'}
{'grids': '10', 'lower': '57000'}
{'grids': '20', 'lower': '56000'}
{'grids': '20', 'lower': '57000'}
>>> sample_points(space, 2, seed=7) == sample_points(space, 2, seed=7)
True
"""

from __future__ import annotations

import random
from math import prod
from typing import TYPE_CHECKING

from tradewire.errors import SweepError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["Params", "Space", "grid_points", "parse_param", "parse_space", "sample_points"]

#: One point: a value for each swept parameter.
Params = dict[str, object]
#: The swept parameters and their values, in the order given.
Space = dict[str, tuple[object, ...]]


def parse_param(text: str) -> tuple[str, tuple[str, ...]]:
    """``name=v1,v2,...`` (a ``--param`` option) as the name and its values, as strings.

    Raises:
        SweepError: no ``=``, a name that is not an identifier, or an empty or repeated value.
    """
    name, sep, values = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name.isidentifier():
        raise SweepError(f"--param takes NAME=V1,V2,..., not {text!r}")
    items = tuple(v.strip() for v in values.split(","))
    if any(not v for v in items):
        raise SweepError(f"--param {name}: an empty value in {values!r}")
    if len(set(items)) != len(items):
        raise SweepError(f"--param {name}: a value is given twice in {values!r}")
    return name, items


def parse_space(options: Iterable[str]) -> Space:
    """The ``--param`` options as a space (parameter names in the order given).

    Raises:
        SweepError: a bad option (:func:`parse_param`), a parameter given twice, or none.
    """
    space: Space = {}
    for option in options:
        name, values = parse_param(option)
        if name in space:
            raise SweepError(f"--param {name} is given twice: put all its values in one")
        space[name] = values
    if not space:
        raise SweepError("a sweep needs at least one --param NAME=V1,V2,...")
    return space


def _size(space: Mapping[str, Sequence[object]]) -> int:
    if not space or any(len(v) == 0 for v in space.values()):
        raise SweepError("every swept parameter needs at least one value")
    return prod(len(v) for v in space.values())


def _point(space: Mapping[str, Sequence[object]], index: int) -> Params:
    """The ``index``-th point of the grid, the last parameter varying fastest."""
    point: Params = {}
    for name, values in reversed(list(space.items())):
        index, at = divmod(index, len(values))
        point[name] = values[at]
    return {name: point[name] for name in space}


def grid_points(space: Mapping[str, Sequence[object]]) -> list[Params]:
    """Every combination of the values (the cartesian product), the last parameter varying
    fastest."""
    return [_point(space, i) for i in range(_size(space))]


def sample_points(
    space: Mapping[str, Sequence[object]], samples: int, *, seed: int
) -> list[Params]:
    """``samples`` distinct points of the grid drawn at random with ``seed`` (all of them, in
    grid order, if the grid has no more); the grid itself is never built.

    Raises:
        SweepError: ``samples`` below 1.
    """
    if samples < 1:
        raise SweepError(f"--samples must be at least 1, not {samples}")
    size = _size(space)
    if samples >= size:
        return grid_points(space)
    chosen = random.Random(seed).sample(range(size), samples)
    return [_point(space, i) for i in chosen]
