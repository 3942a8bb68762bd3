"""Run the ``tradewire`` command in a subprocess, with a home of its own, as a user would.

The command runs under this interpreter (``python -c`` calling ``tradewire.cli.main``), so it
is the installed package under test, with the same exit statuses and output as the console
script. ``TRADEWIRE_*`` variables of the calling environment are left out, so a developer's
own settings never leak into a test.

>>> import tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as home:
...     status, out, err = TradewireCommand(Path(home)).run_sync("keys", "list")
>>> status, err
(0, '')
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import TYPE_CHECKING, NamedTuple

from tradewire.keys import KeyStore

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

__all__ = ["CommandResult", "TradewireCommand", "crash_after_orders"]

_MAIN = "import sys\nfrom tradewire.cli.main import main\nsys.exit(main(sys.argv[1:]))\n"


class CommandResult(NamedTuple):
    """How a command ended: its exit status and what it printed."""

    status: int
    out: str
    err: str


def crash_after_orders(count: int) -> str:
    """A ``prelude`` for :meth:`TradewireCommand.run`: the bot dies like a SIGKILL (``os._exit(9)``)
    right after the exchange accepted its ``count``-th order of the run, before it could journal
    the answer. ``0`` changes nothing.
    """
    if count <= 0:
        return ""
    return (
        "import os\n"
        "from tradewire.venues.binance import BinanceVenue\n"
        "_real_place, _placed = BinanceVenue.place_order, []\n"
        "async def _place_then_die(self, request):\n"
        "    order = await _real_place(self, request)\n"
        "    _placed.append(order)\n"
        f"    if len(_placed) >= {count}:\n"
        "        os._exit(9)\n"
        "    return order\n"
        "BinanceVenue.place_order = _place_then_die\n"
    )


class TradewireCommand:
    """The ``tradewire`` command with ``TRADEWIRE_HOME`` = ``home`` and the file key store.

    Args:
        home: The command's home folder (created by the command as needed).
        password: ``TRADEWIRE_PASSWORD`` for the key file; ``None`` leaves it unset.
        key_backend: ``TRADEWIRE_KEY_BACKEND``; ``"file"`` keeps tests off the OS keyring, and
            ``None`` leaves it unset (the command then picks one).
    """

    def __init__(
        self,
        home: Path,
        *,
        password: str | None = "pw for tests",
        key_backend: str | None = "file",
    ) -> None:
        self.home = home
        self.password = password
        self.key_backend = key_backend
        #: stdout and stderr of every finished ``run``/``run_sync``, for checks such as
        #: :meth:`leaked`.
        self.outputs: list[str] = []

    def env(self, **extra: str) -> dict[str, str]:
        """This environment without ``TRADEWIRE_*``, plus the command's own and ``extra``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIRE_")}
        env["TRADEWIRE_HOME"] = str(self.home)
        if self.key_backend is not None:
            env["TRADEWIRE_KEY_BACKEND"] = self.key_backend
        if self.password is not None:
            env["TRADEWIRE_PASSWORD"] = self.password
        return env | extra

    def key_store(self) -> KeyStore:
        """The key store the command reads: same home, backend and password."""
        backend = self.key_backend or "auto"
        password = self.password
        if password is None:
            return KeyStore(self.home, backend=backend)
        return KeyStore(self.home, backend=backend, password=lambda new: password)

    def _argv(self, args: tuple[str, ...], prelude: str) -> list[str]:
        return [sys.executable, "-c", prelude + "\n" + _MAIN, *args]

    async def start(
        self, *args: str, env: Mapping[str, str] | None = None, prelude: str = ""
    ) -> asyncio.subprocess.Process:
        """Start ``tradewire ARGS`` with piped stdout and stderr; the caller waits for it.

        ``prelude`` is Python code the subprocess runs first (e.g. to inject a fault); ``env``
        replaces the whole environment (default: :meth:`env`).
        """
        return await asyncio.create_subprocess_exec(
            *self._argv(args, prelude),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env) if env is not None else self.env(),
        )

    async def run(
        self,
        *args: str,
        stdin: str = "",
        env: Mapping[str, str] | None = None,
        prelude: str = "",
        timeout: float = 60.0,
    ) -> CommandResult:
        """Run ``tradewire ARGS`` to its end, feeding ``stdin``.

        Raises:
            TimeoutError: The command ran longer than ``timeout`` seconds (it is killed).
        """
        proc = await self.start(*args, env=env, prelude=prelude)
        try:
            out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            command = " ".join(("tradewire", *args))
            raise TimeoutError(f"{command} ran longer than {timeout:g} s") from None
        return self._finished(proc.returncode, out, err)

    def run_sync(
        self,
        *args: str,
        stdin: str = "",
        env: Mapping[str, str] | None = None,
        prelude: str = "",
        timeout: float = 90.0,
    ) -> CommandResult:
        """:meth:`run`, blocking (for tests without an event loop).

        Raises:
            subprocess.TimeoutExpired: The command ran longer than ``timeout`` seconds.
        """
        done = subprocess.run(
            self._argv(args, prelude),
            input=stdin.encode(),
            capture_output=True,
            env=dict(env) if env is not None else self.env(),
            timeout=timeout,
            check=False,
        )
        return self._finished(done.returncode, done.stdout, done.stderr)

    def _finished(self, status: int | None, out: bytes, err: bytes) -> CommandResult:
        assert status is not None  # communicate() and run() return after the process ended
        result = CommandResult(status, out.decode(), err.decode())
        self.outputs += [result.out, result.err]
        return result

    def leaked(self, secret: str) -> bool:
        """Whether ``secret`` shows in any output in :attr:`outputs` or in any file of the home."""
        if any(secret in text for text in self.outputs):
            return True
        data = secret.encode()
        return any(data in p.read_bytes() for p in self.home.rglob("*") if p.is_file())
