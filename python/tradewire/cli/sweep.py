"""``tradewire sweep grid|dca|run --data FILE... --param NAME=V1,V2,...``: one bot backtested at
every combination of the values given (or ``--samples N`` of them, drawn with ``--seed``).

For ``grid`` and ``dca`` a parameter is named as its option is (``--param grids=10,20,40
--param lower=56000,57000``); options given the usual way (``--upper 62000``) hold for every
point. ``run FILE.py:Class`` builds your own Strategy subclass with ``--arg`` and the point's
values as keyword arguments (strings). Points run on a local process pool (``--workers``,
default the CPU count) or on Ray (``--executor ray``, ``--ray-address`` to join a cluster).
Writes ``sweep.json``, ``sweep.csv`` and ``heatmap.png`` (the best ``--metric`` over the first
two swept parameters). A point whose parameters the bot refuses is recorded with the reason.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tradewire.backtest import default_rules
from tradewire.cli.session import (
    add_bot_arguments,
    add_bot_commands,
    decimal_argument,
    resolve_params,
    run_identity,
    strategy_for,
)
from tradewire.config import default_home, ensure_home
from tradewire.errors import BacktestError, DataError, SweepError
from tradewire.sweep import (
    EXECUTORS,
    OBJECTIVES,
    StrategyClass,
    SweepTask,
    executor,
    grid_points,
    parse_space,
    run_sweep,
    sample_points,
    write_sweep,
)
from tradewire.venues.paper import FILL_MODELS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tradewire.model import Balance, SymbolRules
    from tradewire.sweep import PointResult, StrategyFactory
    from tradewire.sweep.space import Space
    from tradewire.trading.strategy import Strategy

__all__ = ["BuiltinBot", "register"]


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``sweep`` command group to the ``tradewire`` command."""
    group = subparsers.add_parser(
        "sweep",
        help="backtest a bot over a grid of parameters",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bots = add_bot_commands(group, _common, _run_cli)
    own = bots.add_parser("run", help="your own Strategy subclass, from FILE.py:Class")
    own.add_argument("strategy", help="FILE.py:ClassName or module:ClassName")
    own.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a keyword argument for every point (a string; repeat for more)",
    )
    _common(own)
    own.set_defaults(func=_run_cli)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, nargs="+", required=True, help="data files, in order")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        required=True,
        metavar="NAME=V1,V2,...",
        help="a swept parameter and its values (repeat for more; the grid is their product)",
    )
    p.add_argument("--samples", type=int, help="run this many points drawn from the grid")
    p.add_argument("--seed", type=int, default=0, help="seed of the draw and of each point")
    p.add_argument("--executor", choices=EXECUTORS, default="local")
    p.add_argument("--ray-address", help="join this Ray cluster (auto, host:6379, ray://...)")
    p.add_argument("--workers", type=int, help="processes (local) or CPUs of a local Ray")
    p.add_argument("--metric", choices=tuple(OBJECTIVES), default="total_pnl")
    p.add_argument("--symbol", default="BTCUSDT")
    p.add_argument(
        "--exchange-info",
        type=Path,
        help="an exchangeInfo JSON file to take the symbol's rules from (default: built in)",
    )
    p.add_argument("--fill-model", choices=FILL_MODELS, default="trade-through")
    p.add_argument("--latency-ms", type=float, default=0.0, help="order entry latency")
    p.add_argument("--market-data-latency-ms", type=float, default=0.0)
    p.add_argument("--maker-fee", type=decimal_argument, default=Decimal("0.001"))
    p.add_argument("--taker-fee", type=decimal_argument, default=Decimal("0.001"))
    p.add_argument("--bnb-discount", action="store_true", help="25%% off fees (paid in BNB)")
    p.add_argument("--quote-balance", type=decimal_argument, default=Decimal(10_000))
    p.add_argument("--base-balance", type=decimal_argument, default=Decimal("0.1"))
    p.add_argument("--out", type=Path, help="output folder (default: under TRADEWIRE_HOME)")


def _bot_actions(bot: str) -> dict[str, argparse.Action]:
    """The built-in bot's options, by name (``lower``, ``grids``, ``take_profit``...)."""
    parser = argparse.ArgumentParser(add_help=False)
    add_bot_arguments(parser, bot)
    return {a.dest: a for a in parser._actions}


@dataclass(frozen=True)
class BuiltinBot:
    """The grid or DCA bot of a sweep point, built as ``tradewire backtest grid|dca`` builds
    it: the fixed options and the point's values, the defaults filled in from the data's first
    price, the starting orders checked against the balances. Picklable (workers build it)."""

    bot: str
    fixed: tuple[tuple[str, object], ...]
    quote_balance: Decimal

    def __call__(
        self,
        params: Mapping[str, object],
        rules: SymbolRules,
        price: Decimal,
        balances: dict[str, Balance],
    ) -> Strategy:
        """The bot for ``params``.

        Raises:
            BotConfigError: the bot refuses the parameters.
        """
        values: dict[str, object] = {dest: None for dest in _bot_actions(self.bot)}
        values.update(self.fixed)
        values.update(params)
        args = argparse.Namespace(bot=self.bot, **values)
        if self.bot == "grid" and args.investment is None and args.quantity is None:
            args.investment = min(self.quote_balance / 5, Decimal(1000))
        bot_params = resolve_params(args, rules, price)
        return strategy_for(bot_params, rules, price, balances)


def _typed_space(bot: str, space: Space) -> Space:
    """The swept values of a built-in bot converted as its options convert them.

    Raises:
        SweepError: an unknown parameter or a value its option does not take.
    """
    actions = _bot_actions(bot)
    out: Space = {}
    for name, values in space.items():
        action = actions.get(name)
        if action is None or not action.option_strings:
            known = ", ".join(a for a, act in actions.items() if act.option_strings)
            raise SweepError(f"the {bot} bot has no parameter {name!r} (it has: {known})")
        typed: list[object] = []
        for value in values:
            try:
                converted: object = action.type(value) if callable(action.type) else value  # type: ignore[arg-type]
            except (argparse.ArgumentTypeError, ValueError, TypeError):
                raise SweepError(f"--param {name}: {value!r} is not a valid value") from None
            if action.choices is not None and converted not in action.choices:
                raise SweepError(f"--param {name}: {value!r} is not one of {list(action.choices)}")
            typed.append(converted)
        out[name] = tuple(typed)
    return out


def _factory(args: argparse.Namespace, space: Space) -> StrategyFactory:
    if args.bot == "run":
        fixed: dict[str, object] = {}
        for item in args.arg:
            name, sep, value = item.partition("=")
            if not sep or not name.isidentifier():
                raise SweepError(f"--arg takes NAME=VALUE, not {item!r}")
            fixed[name] = value
        both = sorted(set(fixed) & set(space))
        if both:
            raise SweepError(f"{', '.join(both)}: given both as --arg and as --param")
        return StrategyClass(args.strategy, tuple(fixed.items()))
    given = {
        dest: getattr(args, dest)
        for dest, action in _bot_actions(args.bot).items()
        if action.option_strings and getattr(args, dest, None) is not None
    }
    both = sorted(set(given) & set(space))
    if both:
        raise SweepError(f"{', '.join(both)}: given both as an option and as --param")
    return BuiltinBot(args.bot, tuple(given.items()), args.quote_balance)


def _progress() -> Progress:
    return Progress(
        TextColumn("sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} refused or failed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )


def _run_cli(args: argparse.Namespace) -> int:
    """Entry point of ``tradewire sweep grid|dca|run``."""
    try:
        space = parse_space(args.param)
        if args.bot != "run":
            space = _typed_space(args.bot, space)
        points = (
            grid_points(space)
            if args.samples is None
            else sample_points(space, args.samples, seed=args.seed)
        )
        rules = default_rules(args.symbol, args.exchange_info)
        missing = [str(p) for p in args.data if not p.is_file()]
        if missing:
            raise SweepError(f"no such data file: {', '.join(missing)}")
        task = SweepTask(
            strategy=_factory(args, space),
            data=tuple(str(p.resolve()) for p in args.data),
            symbol=rules.symbol,
            rules=rules,
            fill_model=args.fill_model,
            maker_fee=str(args.maker_fee),
            taker_fee=str(args.taker_fee),
            bnb_discount=args.bnb_discount,
            order_latency_ms=args.latency_ms,
            market_data_latency_ms=args.market_data_latency_ms,
            start_balances=(
                (rules.quote_asset, str(args.quote_balance)),
                (rules.base_asset, str(args.base_balance)),
            ),
            seed=args.seed,
        )
        runner = executor(args.executor, workers=args.workers, ray_address=args.ray_address)
        progress = _progress()
        bar = progress.add_task("points", total=len(points), failed=0)
        failed = 0

        def advance(result: PointResult) -> None:
            nonlocal failed
            failed += result.error is not None
            progress.update(bar, advance=1, failed=failed)

        with progress:
            result = run_sweep(task, points, runner, on_result=advance)
    except (SweepError, BacktestError, DataError) as e:
        print(f"tradewire sweep: {e}", file=sys.stderr)
        return 2
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_dir: Path = (
        args.out or ensure_home(default_home()) / "reports" / f"sweep-{args.bot}-{stamp}"
    )
    settings = {
        **task.settings(),
        **run_identity(args),
        "space": {name: [str(v) for v in values] for name, values in space.items()},
        "samples": args.samples,
    }
    json_path, csv_path, png_path = write_sweep(result, out_dir, settings, args.metric, list(space))
    ran = len(points) - len(result.failed)
    print(
        f"{len(points)} points in {result.wall_s:.2f} s ({args.executor}, "
        f"{runner.describe().get('workers') or 'all'} workers); {len(result.failed)} refused "
        "or failed"
    )
    best = result.best(args.metric)
    if best is not None:
        shown = ", ".join(f"{k}={v}" for k, v in best.params.items())
        print(f"best {args.metric}: {getattr(best, args.metric)} at {shown}")
    for point in result.failed[:5]:
        shown = ", ".join(f"{k}={v}" for k, v in point.params.items())
        print(f"  {shown}: {point.error}", file=sys.stderr)
    print(f"written: {json_path}, {csv_path}, {png_path}")
    return 0 if ran else 1
