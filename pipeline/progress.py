"""Progress of long runs: done/total, rate and ETA, at most every few seconds."""

from __future__ import annotations

import time
from typing import Callable


class Progress:
    def __init__(self, total: int, emit: Callable[[str], None], every_s: float = 2.0) -> None:
        self.total = total
        self.emit = emit
        self.every_s = every_s
        self.done = 0
        self.chars = 0
        self.start = time.monotonic()
        self.last = 0.0

    def step(self, label: str, chars: int = 0) -> None:
        self.done += 1
        self.chars += chars
        now = time.monotonic()
        if self.done == self.total or now - self.last >= self.every_s or self.done == 1:
            self.last = now
            self.emit(self.line(label))

    def line(self, label: str) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate else 0.0
        return (
            f"[{self.done}/{self.total}] {rate:.1f} files/s, {self.chars / elapsed / 1000:.1f}k chars/s, "
            f"ETA {eta:.0f}s — {label}"
        )
