"""The points of a sweep: the cartesian product of the values, a seeded sample of it, and the
``--param`` syntax."""

from __future__ import annotations

import itertools

import pytest

from tradewire.errors import SweepError
from tradewire.sweep import grid_points, parse_space, sample_points

SPACE = {"a": ("1", "2", "3"), "b": ("x", "y"), "c": ("10", "20", "30", "40")}


def test_the_grid_is_the_cartesian_product_last_parameter_fastest() -> None:
    points = grid_points(SPACE)
    expected = [
        dict(zip(SPACE, values, strict=True)) for values in itertools.product(*SPACE.values())
    ]
    assert points == expected
    assert len(points) == 24
    assert points[1] == {"a": "1", "b": "x", "c": "20"}


def test_a_sample_is_distinct_points_of_the_grid_and_follows_the_seed() -> None:
    grid = grid_points(SPACE)
    sample = sample_points(SPACE, 7, seed=3)
    assert len(sample) == 7
    assert all(p in grid for p in sample)
    assert len({tuple(p.values()) for p in sample}) == 7
    assert sample == sample_points(SPACE, 7, seed=3)
    assert sample != sample_points(SPACE, 7, seed=4)


def test_asking_for_as_many_samples_as_the_grid_has_gives_the_grid() -> None:
    assert sample_points(SPACE, 24, seed=1) == grid_points(SPACE)
    assert sample_points(SPACE, 100, seed=1) == grid_points(SPACE)


def test_a_sample_of_a_huge_grid_does_not_build_the_grid() -> None:
    huge = {f"p{i}": tuple(str(v) for v in range(10)) for i in range(12)}  # 10^12 points
    sample = sample_points(huge, 3, seed=0)
    assert len(sample) == 3
    assert all(set(p) == set(huge) for p in sample)


def test_param_options_parse_into_a_space_in_the_order_given() -> None:
    space = parse_space(["grids=10, 20,40", "take-profit=1.5"])
    assert space == {"grids": ("10", "20", "40"), "take_profit": ("1.5",)}
    assert list(space) == ["grids", "take_profit"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["grids"], "NAME=V1,V2"),
        (["1x=2"], "NAME=V1,V2"),
        (["grids=10,,20"], "empty value"),
        (["grids=10,10"], "twice"),
        (["grids=10", "grids=20"], "given twice"),
        ([], "at least one"),
    ],
)
def test_bad_param_options_are_refused_with_the_reason(options: list[str], message: str) -> None:
    with pytest.raises(SweepError, match=message):
        parse_space(options)


def test_samples_below_one_are_refused() -> None:
    with pytest.raises(SweepError, match="at least 1"):
        sample_points(SPACE, 0, seed=0)
