"""Where tradewire keeps its files, and the TOML config with ``TRADEWIRE_*`` overrides.

``TRADEWIRE_HOME`` names the folder for the config, the key store and the journals; without it
the platform's user config folder is used (``$XDG_CONFIG_HOME/tradewire`` or
``~/.config/tradewire`` on Linux, ``~/Library/Application Support/tradewire`` on macOS,
``%APPDATA%\\tradewire`` on Windows).

The config file is ``HOME/config.toml`` (or ``TRADEWIRE_CONFIG``)::

    [keys]
    backend = "auto"          # auto: the OS keyring if usable, else the encrypted file

    [exchange]
    name = "binance"
    rest_url = "https://api.binance.com"

    [bots.grid1]
    strategy = "grid"
    key = "grid1-key"         # the key store name this bot signs with: one key per bot
    symbol = "BTCUSDT"
    lower = "60000"           # anything else is a strategy parameter (TOML floats read as Decimal)

Environment variables override the file: ``TRADEWIRE_KEY_BACKEND``, ``TRADEWIRE_EXCHANGE``,
``TRADEWIRE_REST_URL`` and ``TRADEWIRE_BOT_<NAME>_KEY`` (the bot name upper-cased, ``-`` and
``.`` as ``_``). Secrets never go in config files: a config holding a key named like a secret
(``secret``, ``api_secret``, ``private_key``, ``password``, ...) is refused.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tradewire.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "KEY_BACKENDS",
    "BotConfig",
    "Config",
    "ExchangeConfig",
    "KeysConfig",
    "default_home",
    "ensure_home",
    "load_config",
    "validate_name",
]

KEY_BACKENDS = ("auto", "keyring", "file")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SECRET_WORDS = ("secret", "private_key", "privatekey", "password", "passphrase", "passwd")
_BOT_FIELDS = frozenset({"strategy", "key", "exchange", "symbol", "rest_url", "mode"})
_MODES = ("read-only", "paper", "live")


def validate_name(kind: str, name: str) -> str:
    """Check a key or bot name (letters, digits, ``_ . -``; at most 64) and return it."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"invalid {kind} name {name!r}: use 1 to 64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


def default_home(environ: Mapping[str, str] | None = None) -> Path:
    """The tradewire home: ``TRADEWIRE_HOME``, else the platform's user config folder."""
    env = os.environ if environ is None else environ
    explicit = env.get("TRADEWIRE_HOME")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        appdata = env.get("APPDATA")
        base = Path(appdata) if appdata else Path.home() / "AppData" / "Roaming"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = env.get("XDG_CONFIG_HOME")
        # The XDG spec says relative paths are invalid and must be ignored.
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".config"
    return base / "tradewire"


def ensure_home(home: Path) -> Path:
    """Create ``home`` (mode 0700, owner only) if it does not exist, and return it."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


@dataclass(frozen=True)
class KeysConfig:
    """Where key secrets are stored: ``auto``, ``keyring`` or ``file``."""

    backend: str = "auto"

    def __post_init__(self) -> None:
        if self.backend not in KEY_BACKENDS:
            raise ConfigError(
                f"[keys] backend = {self.backend!r}: use one of {', '.join(KEY_BACKENDS)}"
            )


@dataclass(frozen=True)
class ExchangeConfig:
    """The default venue for bots: its name and REST base URL (None: the venue's own)."""

    name: str = "binance"
    rest_url: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("[exchange] name must not be empty")
        if self.rest_url is not None and not self.rest_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"[exchange] rest_url = {self.rest_url!r}: use an http:// or https:// URL"
            )


@dataclass(frozen=True)
class BotConfig:
    """One ``[bots.NAME]`` section: the strategy, the one key it signs with, and its parameters."""

    name: str
    strategy: str | None = None
    key: str | None = None
    exchange: str | None = None
    symbol: str | None = None
    rest_url: str | None = None
    mode: str = "paper"
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        validate_name("bot", self.name)
        if self.key is not None:
            validate_name("key", self.key)
        if self.mode not in _MODES:
            raise ConfigError(
                f"[bots.{self.name}] mode = {self.mode!r}: use one of {', '.join(_MODES)}"
            )
        if self.mode == "live" and self.key is None:
            raise ConfigError(
                f'[bots.{self.name}] runs live but has no key: add key = "NAME" '
                "(a name from `tradewire keys list`)"
            )
        if self.symbol is not None and not re.fullmatch(r"[A-Z0-9-_.]{1,20}", self.symbol):
            raise ConfigError(
                f"[bots.{self.name}] symbol = {self.symbol!r}: use the exchange's symbol, "
                "e.g. BTCUSDT"
            )
        if self.rest_url is not None and not self.rest_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"[bots.{self.name}] rest_url = {self.rest_url!r}: use an http(s):// URL"
            )
        if not isinstance(self.params, MappingProxyType):
            object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


@dataclass(frozen=True)
class Config:
    """The whole configuration: home folder, key storage, default exchange and bots."""

    home: Path
    path: Path
    keys: KeysConfig = field(default_factory=KeysConfig)
    exchange: ExchangeConfig = field(default_factory=ExchangeConfig)
    bots: Mapping[str, BotConfig] = field(default_factory=lambda: MappingProxyType({}))

    def bot(self, name: str) -> BotConfig:
        """The config of bot ``name`` (a bare default one if the file has no section for it)."""
        found = self.bots.get(name)
        return found if found is not None else BotConfig(name=validate_name("bot", name))

    @property
    def journal_dir(self) -> Path:
        """The folder holding one SQLite journal per bot."""
        return self.home / "journals"


def _refuse_secrets(table: Mapping[str, Any], where: str, source: str) -> None:
    for key, value in table.items():
        lowered = key.lower().replace("-", "_")
        if any(word in lowered for word in _SECRET_WORDS):
            raise ConfigError(
                f"{source}: {where}{key} looks like a secret, and secrets never go in config "
                "files. Remove it, store the key with `tradewire keys add NAME` (OS keyring or "
                'encrypted key file), and bind the bot to it with key = "NAME".'
            )
        if isinstance(value, dict):
            _refuse_secrets(value, f"{where}{key}.", source)


def _str(value: object, where: str, source: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{source}: {where} must be a string, not {type(value).__name__}")
    return value


def _table(value: object, where: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [{where}] must be a table")
    return value


def _check_fields(table: Mapping[str, Any], allowed: set[str], where: str, source: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{source}: [{where}] has unknown field(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(allowed))}"
        )


def _env_bot_name(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def _parse(data: Mapping[str, Any], home: Path, path: Path, env: Mapping[str, str]) -> Config:
    source = str(path)
    _check_fields(data, {"keys", "exchange", "bots"}, "top level", source)
    keys_table = _table(data.get("keys", {}), "keys", source)
    _check_fields(keys_table, {"backend"}, "keys", source)
    backend = _str(keys_table.get("backend", "auto"), "[keys] backend", source)
    if env.get("TRADEWIRE_KEY_BACKEND"):
        backend = env["TRADEWIRE_KEY_BACKEND"]
        if backend not in KEY_BACKENDS:
            raise ConfigError(
                f"TRADEWIRE_KEY_BACKEND={backend!r}: use one of {', '.join(KEY_BACKENDS)}"
            )

    ex_table = _table(data.get("exchange", {}), "exchange", source)
    _check_fields(ex_table, {"name", "rest_url"}, "exchange", source)
    ex_name = _str(ex_table.get("name", "binance"), "[exchange] name", source)
    rest_url = ex_table.get("rest_url")
    rest_url = None if rest_url is None else _str(rest_url, "[exchange] rest_url", source)
    ex_name = env.get("TRADEWIRE_EXCHANGE") or ex_name
    rest_url = env.get("TRADEWIRE_REST_URL") or rest_url

    bots: dict[str, BotConfig] = {}
    for bot_name, raw in _table(data.get("bots", {}), "bots", source).items():
        table = _table(raw, f"bots.{bot_name}", source)
        validate_name("bot", bot_name)
        known = {
            k: _str(v, f"[bots.{bot_name}] {k}", source)
            for k, v in table.items()
            if k in _BOT_FIELDS
        }
        params = {k: v for k, v in table.items() if k not in _BOT_FIELDS}
        env_key = env.get(f"TRADEWIRE_BOT_{_env_bot_name(bot_name)}_KEY")
        if env_key:
            known["key"] = env_key
        bots[bot_name] = BotConfig(name=bot_name, params=params, **known)
    return Config(
        home=home,
        path=path,
        keys=KeysConfig(backend=backend),
        exchange=ExchangeConfig(name=ex_name, rest_url=rest_url),
        bots=MappingProxyType(bots),
    )


def load_config(
    home: Path | None = None,
    *,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read the config file (if any) and apply the ``TRADEWIRE_*`` overrides.

    Raises:
        ConfigError: the file is not valid TOML, holds a secret, or has an invalid value.
    """
    env = os.environ if environ is None else environ
    home = default_home(env) if home is None else home
    if path is None:
        path = (
            Path(env["TRADEWIRE_CONFIG"]) if env.get("TRADEWIRE_CONFIG") else home / "config.toml"
        )
    data: dict[str, Any] = {}
    if path.exists():
        try:
            # parse_float=Decimal: a price written as 60000.5 stays exact.
            data = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text") from None
        _refuse_secrets(data, "", str(path))
    return _parse(data, home, path, env)
