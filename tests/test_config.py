"""The tradewire home, the TOML config, its TRADEWIRE_* overrides, and refusing secrets."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tradewire.config import default_home, load_config
from tradewire.errors import ConfigError


def write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_home_comes_from_tradewire_home_first(tmp_path: Path) -> None:
    env = {"TRADEWIRE_HOME": str(tmp_path / "tw"), "XDG_CONFIG_HOME": "/elsewhere"}
    assert default_home(env) == tmp_path / "tw"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG rule is Linux's")
def test_home_follows_xdg_and_ignores_a_relative_xdg_path() -> None:
    assert default_home({"XDG_CONFIG_HOME": "/xdg"}) == Path("/xdg/tradewire")
    assert default_home({"XDG_CONFIG_HOME": "rel"}) == Path.home() / ".config" / "tradewire"
    assert default_home({}) == Path.home() / ".config" / "tradewire"


def test_no_file_gives_the_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ={})
    assert config.keys.backend == "auto"
    assert config.exchange.name == "binance"
    assert config.exchange.rest_url is None
    assert dict(config.bots) == {}
    assert config.bot("grid1").key is None
    assert config.journal_dir == tmp_path / "journals"


def test_bots_bind_one_key_each_and_keep_exact_parameters(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[keys]
backend = "file"

[exchange]
rest_url = "http://127.0.0.1:9000"

[bots.grid1]
strategy = "grid"
key = "grid-key"
symbol = "BTCUSDT"
lower = 60000.1
upper = "70000"
grids = 10

[bots.dca-eth]
strategy = "dca"
key = "dca-key"
mode = "live"
""",
    )
    config = load_config(tmp_path, environ={})
    assert config.keys.backend == "file"
    assert config.exchange.rest_url == "http://127.0.0.1:9000"
    grid = config.bot("grid1")
    assert (grid.strategy, grid.key, grid.symbol, grid.mode) == (
        "grid",
        "grid-key",
        "BTCUSDT",
        "paper",
    )
    # TOML floats are read as Decimal: 60000.1 stays exact on its way to an order.
    assert grid.params["lower"] == Decimal("60000.1")
    assert isinstance(grid.params["lower"], Decimal)
    assert grid.params == {"lower": Decimal("60000.1"), "upper": "70000", "grids": 10}
    assert config.bot("dca-eth").key == "dca-key"
    with pytest.raises(TypeError):
        grid.params["lower"] = Decimal(1)  # type: ignore[index]


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    write(tmp_path, '[keys]\nbackend = "keyring"\n[bots.grid1]\nkey = "old"\n')
    env = {
        "TRADEWIRE_KEY_BACKEND": "file",
        "TRADEWIRE_REST_URL": "http://127.0.0.1:1234",
        "TRADEWIRE_EXCHANGE": "local",
        "TRADEWIRE_BOT_GRID1_KEY": "new",
    }
    config = load_config(tmp_path, environ=env)
    assert config.keys.backend == "file"
    assert config.exchange.rest_url == "http://127.0.0.1:1234"
    assert config.exchange.name == "local"
    assert config.bot("grid1").key == "new"


def test_tradewire_config_points_at_another_file(tmp_path: Path) -> None:
    other = write(tmp_path / "elsewhere", '[exchange]\nname = "binance-testnet"\n')
    config = load_config(tmp_path, environ={"TRADEWIRE_CONFIG": str(other)})
    assert config.path == other
    assert config.exchange.name == "binance-testnet"


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("[exchange]", "api_secret"),
        ("[bots.grid1]", "secret"),
        ("[bots.grid1]", "private_key"),
        ("[bots.grid1.extra]", "password"),
        ("[keys]", "SecretKey"),
    ],
)
def test_a_secret_in_the_config_is_refused_without_echoing_it(
    tmp_path: Path, section: str, field: str
) -> None:
    value = "s3cr3t-VALUE-that-must-not-show"
    write(tmp_path, f'{section}\n{field} = "{value}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ={})
    message = str(caught.value)
    assert "secrets never go in config files" in message
    assert "tradewire keys add" in message
    assert field in message
    assert value not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[keys]\nbackend = "vault"\n', "use one of auto, keyring, file"),
        ('[exchange]\nrest_url = "ftp://x"\n', "http:// or https://"),
        ('[exchange]\nnmae = "x"\n', "unknown field(s) nmae"),
        ('[bots.grid1]\nmode = "live"\n', "runs live but has no key"),
        ('[bots.grid1]\nmode = "yolo"\n', "use one of read-only, paper, live"),
        ('[bots.grid1]\nkey = "bad name!"\n', "invalid key name"),
        ('[bots.grid1]\nsymbol = "btc usdt"\n', "symbol"),
        ("[bots.grid1]\nkey = 3\n", "must be a string"),
        ("[bots]\ngrid1 = 3\n", "[bots.grid1] must be a table"),
        ("[keys\n", "not valid TOML"),
    ],
)
def test_invalid_configs_get_clear_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ={})
    assert expected in str(caught.value)
    if "TOML" in expected:
        assert str(path) in str(caught.value)


def test_an_invalid_backend_variable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRADEWIRE_KEY_BACKEND"):
        load_config(tmp_path, environ={"TRADEWIRE_KEY_BACKEND": "plaintext"})
