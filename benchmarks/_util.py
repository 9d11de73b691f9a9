"""Helpers for benchmarks: run a callable in a fresh process and measure wall time and peak
resident memory of that process alone (so one benchmark's memory does not leak into the next).
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
import traceback
from collections.abc import Callable
from typing import Any


def _child(
    conn: Any, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    try:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        conn.send(("ok", result, wall, peak / 1024.0, base / 1024.0))
    except BaseException:  # report any failure to the parent
        conn.send(("error", traceback.format_exc(), 0.0, 0.0, 0.0))
    finally:
        conn.close()


def measure(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run ``fn(*args, **kwargs)`` in a forked process.

    Returns ``{"result", "wall_s", "peak_mb"}`` where ``peak_mb`` is the child's peak RSS
    (it includes the interpreter and imported modules at fork time). Raises ``RuntimeError``
    with the child's traceback if ``fn`` failed. ``fn`` and its result must be picklable.
    """
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, kwargs))
    proc.start()
    child.close()
    status, result, wall, peak, base = parent.recv()
    proc.join()
    if status != "ok":
        raise RuntimeError(f"benchmark {getattr(fn, '__name__', fn)} failed:\n{result}")
    return {"result": result, "wall_s": round(wall, 3), "peak_mb": round(peak, 1)}
