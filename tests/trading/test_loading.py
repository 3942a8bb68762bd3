"""A user's strategy from ``FILE.py:Class`` and ``NAME=VALUE`` parameters, typed by __init__."""

from __future__ import annotations

import textwrap
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

import tradewire
from tradewire.errors import StrategyError
from tradewire.trading.loading import load_strategy, make_strategy, parse_params
from tradewire.trading.strategy import Strategy

if TYPE_CHECKING:
    from pathlib import Path

SOURCE = textwrap.dedent(
    """
    from __future__ import annotations
    from decimal import Decimal
    from tradewire import Strategy

    class Crossing(Strategy):
        def __init__(self, fast: int = 5, slow: int = 20, size: Decimal = Decimal("0.001"),
                     scale: float = 1.0, short: bool = False, label: str = "x", raw=None):
            if fast >= slow:
                raise ValueError(f"fast ({fast}) must be under slow ({slow})")
            self.fast, self.slow, self.size = fast, slow, size
            self.scale, self.short, self.label, self.raw = scale, short, label, raw

    NOT_A_CLASS = 3

    class Other:
        pass
    """
)


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "crossing.py"
    path.write_text(SOURCE)
    return path


def test_values_are_converted_to_the_types_init_annotates(tmp_path: Path) -> None:
    cls = load_strategy(f"{_file(tmp_path)}:Crossing")
    params = parse_params(
        ["fast=3", "slow=50", "size=0.25", "scale=1.5", "short=yes", "label=a=b", "raw=7"]
    )
    bot = make_strategy(cls, params)
    assert isinstance(bot, Strategy)
    got = (bot.fast, bot.slow, bot.size, bot.scale, bot.short, bot.label, bot.raw)  # type: ignore[attr-defined]
    assert got == (3, 50, D("0.25"), 1.5, True, "a=b", "7")
    assert type(bot.size) is D  # type: ignore[attr-defined]
    assert make_strategy(cls, {}).slow == 20  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"fast": "three"}, "Crossing: fast='three' is not a valid int"),
        ({"size": "NaN"}, "Crossing: size='NaN' is not a valid Decimal"),
        ({"short": "maybe"}, "Crossing: short='maybe' is not a valid bool"),
        ({"speed": "2"}, "Crossing: .*unexpected keyword argument 'speed'"),
        ({"fast": "30"}, r"Crossing refused its parameters: fast \(30\) must be under slow"),
    ],
)
def test_parameters_that_do_not_fit_are_refused_by_name(
    tmp_path: Path, params: dict[str, str], message: str
) -> None:
    cls = load_strategy(f"{_file(tmp_path)}:Crossing")
    with pytest.raises(StrategyError, match=message):
        make_strategy(cls, params)


def test_bad_specs_and_params_say_what_is_wrong(tmp_path: Path) -> None:
    path = _file(tmp_path)
    cases = {
        "crossing": "a strategy is 'file.py:ClassName'",
        f"{tmp_path / 'missing.py'}:X": "no strategy file",
        f"{path}:Nope": "has no 'Nope'",
        f"{path}:NOT_A_CLASS": "is not a tradewire Strategy subclass",
        f"{path}:Other": "is not a tradewire Strategy subclass",
        "no_such_module_here:X": "loading 'no_such_module_here' failed: ModuleNotFoundError",
    }
    for spec, message in cases.items():
        with pytest.raises(StrategyError, match=message):
            load_strategy(spec)
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(StrategyError, match="failed: RuntimeError: boom"):
        load_strategy(f"{broken}:X")
    with pytest.raises(StrategyError, match="--param takes NAME=VALUE, not 'fast'"):
        parse_params(["fast"])
    with pytest.raises(StrategyError, match="--param fast is given twice"):
        parse_params(["fast=1", "fast=2"])


def test_the_bot_api_is_exported_at_the_top() -> None:
    from tradewire.model import BookUpdate, Order
    from tradewire.trading.strategy import StrategyContext

    assert (tradewire.Strategy, tradewire.StrategyContext) == (Strategy, StrategyContext)
    assert (tradewire.BookUpdate, tradewire.Order) == (BookUpdate, Order)
    assert {"Strategy", "StrategyContext", "BookUpdate"} <= set(dir(tradewire))
    assert all(hasattr(tradewire, name) for name in tradewire.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = tradewire.Nothing
