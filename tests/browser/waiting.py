"""Waiting in browser tests for what a person would see, with a generous bound: CI machines
are shared and may be many times slower than a developer's."""
from __future__ import annotations

import time


def wait_until(condition, what: str, timeout: float = 30) -> None:
    """Return once `condition()` is true; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")
