"""TradewireCommand: the real command with its own home, and nothing of the caller's settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tradewire.testing.command import TradewireCommand

if TYPE_CHECKING:
    from pathlib import Path


def test_the_environment_is_the_commands_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIRE_CONFIG", "/elsewhere/config.toml")
    env = TradewireCommand(tmp_path).env(EXTRA="1")
    assert env["TRADEWIRE_HOME"] == str(tmp_path) and env["EXTRA"] == "1"
    assert env["TRADEWIRE_KEY_BACKEND"] == "file" and env["TRADEWIRE_PASSWORD"]
    assert "TRADEWIRE_CONFIG" not in env
    bare = TradewireCommand(tmp_path, password=None, key_backend=None).env()
    assert not {"TRADEWIRE_PASSWORD", "TRADEWIRE_KEY_BACKEND"} & set(bare)


@pytest.mark.e2e
def test_runs_keep_their_output_and_leaks_are_found(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    done = cli.run_sync("--version")
    assert done.status == 0 and done.out.startswith("tradewire ")
    assert cli.outputs == [done.out, done.err]
    assert cli.run_sync("no-such-command").status == 2
    assert not cli.leaked("s3cret-value")
    (tmp_path / "notes.txt").write_text("s3cret-value")
    assert cli.leaked("s3cret-value")


@pytest.mark.e2e
@pytest.mark.asyncio
async def test_the_key_store_is_the_one_the_command_reads(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    cli.key_store().add("bot1", "K" * 64, "0" * 64)
    status, out, err = await cli.run("keys", "list")
    assert status == 0, err
    assert out.splitlines()[1].split()[:3] == ["bot1", "KKKK…KKK", "hmac"]
    with pytest.raises(TimeoutError, match=r"ran longer than 0\.01 s"):
        await cli.run("keys", "list", timeout=0.01)
