"""Where a sweep's points run: a local process pool, or Ray core tasks on one machine or a
cluster. Both run the same :func:`~tradewire.sweep.task.run_point` on the same tapes, so they
give the same figures for the same points.

- :class:`LocalExecutor`: a :class:`concurrent.futures.ProcessPoolExecutor`; each worker
  process reads the data files once and keeps the tapes for the points it runs next.
- :class:`RayExecutor`: the driver reads the data once and puts its columns in Ray's object
  store (``ray.put``); each node holds one copy, which its workers read without copying, and
  each worker process builds the tapes from it once. Ray is imported only here, only when
  this executor runs (``pip install 'tradewire[ray]'``).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import socket
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any, Literal, Protocol

from tradewire.errors import SweepError
from tradewire.sweep.task import local_tapes, read_columns, run_point, tapes_from_columns

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from tradewire._core import Tape
    from tradewire.sweep.space import Params
    from tradewire.sweep.task import PointResult, SweepTask

__all__ = ["EXECUTORS", "Executor", "ExecutorName", "LocalExecutor", "RayExecutor", "executor"]

ExecutorName = Literal["local", "ray"]
EXECUTORS: tuple[ExecutorName, ...] = ("local", "ray")


class Executor(Protocol):
    """Runs a sweep's points; yields each point's result as it completes."""

    name: str

    def describe(self) -> dict[str, Any]:
        """The executor's settings (for ``sweep.json``)."""
        ...

    def run(self, task: SweepTask, points: Sequence[Params]) -> Iterator[PointResult]:
        """Run every point; results in the order they complete."""
        ...


def _default_workers() -> int:
    return os.cpu_count() or 1


def _local_point(task: SweepTask, index: int, params: Params) -> PointResult:
    return run_point(task, index, params, local_tapes(task))


class LocalExecutor:
    """A process pool of ``workers`` processes (default: the CPU count).

    Workers start with ``forkserver`` where the platform has it (``spawn`` elsewhere): never
    ``fork``, which copies a parent that may hold threads (the progress bar's, Ray's).
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = _default_workers() if workers is None else workers
        if self.workers < 1:
            raise SweepError(f"--workers must be at least 1, not {self.workers}")

    def describe(self) -> dict[str, Any]:
        """``{"executor": "local", "workers": N}``."""
        return {"executor": self.name, "workers": self.workers}

    def run(self, task: SweepTask, points: Sequence[Params]) -> Iterator[PointResult]:
        """Run the points in the pool, at most ``workers`` at a time."""
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        workers = min(self.workers, max(1, len(points)))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_local_point, task, i, p) for i, p in enumerate(points)]
            try:
                for future in as_completed(futures):
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()


def _ray() -> Any:
    """The ``ray`` module, imported only when the Ray executor runs (an optional extra; typed
    loosely so that the package type-checks without it).

    Raises:
        SweepError: Ray is not installed.
    """
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise SweepError(
            "the ray executor needs Ray: pip install 'tradewire[ray]' (or ray)"
        ) from None


#: Tapes built in this Ray worker process, by the object they were built from.
_shared_tapes: dict[str, list[Tape]] = {}


def _ray_point(task: SweepTask, index: int, params: Params, data: list[Any]) -> PointResult:
    """A Ray task: one point, on the tapes of the shared columns (``data[0]``, an ObjectRef
    passed inside a list so that Ray hands over the reference, not the value)."""
    ray = _ray()
    ref = data[0]
    key = ref.hex()
    tapes = _shared_tapes.get(key)
    if tapes is None:
        tapes = tapes_from_columns(ray.get(ref))
        _shared_tapes.clear()
        _shared_tapes[key] = tapes
    return run_point(task, index, params, tapes)


class RayExecutor:
    """Ray core tasks, one per point, each asking for one CPU.

    With ``address`` (``"auto"``, ``host:6379`` or ``ray://host:10001``; default the
    ``RAY_ADDRESS`` environment variable) it joins that cluster; without, it starts a local
    Ray of ``workers`` CPUs (default: the CPU count) and stops it at the end. A Ray already
    initialised in this process is used as it is.
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        self.address = address
        self.workers = workers
        if workers is not None and workers < 1:
            raise SweepError(f"--workers must be at least 1, not {workers}")

    def describe(self) -> dict[str, Any]:
        """``{"executor": "ray", "address": ..., "workers": ...}``."""
        return {"executor": self.name, "address": self.address, "workers": self.workers}

    def run(self, task: SweepTask, points: Sequence[Params]) -> Iterator[PointResult]:
        """Share the data once, then run the points as Ray tasks."""
        ray = _ray()
        started = False
        address = self.address or os.environ.get("RAY_ADDRESS")
        if not ray.is_initialized():
            try:
                if address:
                    _check_reachable(address)
                    ray.init(address=address, log_to_driver=False)
                else:
                    ray.init(
                        num_cpus=self.workers or _default_workers(),
                        include_dashboard=False,
                        log_to_driver=False,
                    )
            except (ConnectionError, RuntimeError, ValueError) as e:
                where = f"join the Ray cluster at {address}" if address else "start a local Ray"
                raise SweepError(f"cannot {where}: {e}") from e
            started = True
        try:
            shared = ray.put(read_columns(task))
            remote = ray.remote(num_cpus=1, max_retries=0)(_ray_point)
            pending = [remote.remote(task, i, p, [shared]) for i, p in enumerate(points)]
            try:
                while pending:
                    done, pending = ray.wait(pending, num_returns=1)
                    for ref in done:
                        yield ray.get(ref)
            finally:
                for ref in pending:
                    ray.cancel(ref)
        finally:
            if started:
                ray.shutdown()


def _check_reachable(address: str) -> None:
    """Refuse at once a ``host:port`` (or ``ray://host:port``) where nothing listens: Ray
    itself keeps retrying such an address for minutes.

    Raises:
        SweepError: a malformed address, or no answer within 5 s.
    """
    if address == "local":
        return
    if address == "auto":  # the cluster `ray start` last started here, as Ray finds it
        try:
            services = importlib.import_module("ray._private.services")
            found = services.get_ray_address_from_environment("auto", None)
        except (ImportError, AttributeError):  # a Ray that finds it another way: let it
            return
        except ConnectionError as e:
            raise SweepError(f"no Ray cluster runs on this machine ({e})") from None
        if not isinstance(found, str) or found == "auto":
            return
        address = found
    where = address.removeprefix("ray://")
    host, sep, port = where.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise SweepError(f"a Ray address is auto, HOST:PORT or ray://HOST:PORT, not {address!r}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
            pass
    except OSError as e:
        raise SweepError(
            f"nothing answers at {where} ({e}): is the cluster's head running there "
            "(ray start --head)?"
        ) from None


def executor(name: str, *, workers: int | None = None, ray_address: str | None = None) -> Executor:
    """The executor called ``name`` (:data:`EXECUTORS`).

    Raises:
        SweepError: an unknown name, a bad worker count, or ``ray_address`` without Ray.
    """
    if name == "local":
        if ray_address:
            raise SweepError("--ray-address needs --executor ray")
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(ray_address, workers)
    raise SweepError(f"unknown executor {name!r}: one of {', '.join(EXECUTORS)}")
