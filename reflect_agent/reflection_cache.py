"""A bounded cache of a frozen reflector's reflections, keyed by the exact prompt tokens.

A frozen reflector that decodes greedily is a pure function of its prompt, so a prompt it has answered once (the
same state after the same last action, which RL visits again and again) need not be generated twice. The cache
is least-recently-used, bounded by entries and by the bytes of its texts, and belongs to one reflector
*identity* (base model, adapter weights, decoding settings, token limit, stop strings, template): a state saved
by a reflector of another identity is refused when loaded, so a changed reflector never reads stale entries.
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def prompt_key(tokens: Sequence[int]) -> str:
    """The cache key of a prompt: a digest of its exact token ids."""
    return hashlib.blake2b(",".join(map(str, tokens)).encode(), digest_size=16).hexdigest()


@dataclass
class CacheStats:
    """What the cache did: lookups that hit and missed, and the generation seconds the hits saved (each hit is
    credited with the mean seconds per generated reflection so far)."""

    hits: int = 0
    misses: int = 0
    saved_s: float = 0.0
    generated_s: float = 0.0

    @property
    def hit_rate(self) -> float:
        """Share of lookups answered from the cache (0 before any lookup)."""
        return self.hits / max(self.hits + self.misses, 1)


class ReflectionCache:
    """Reflections by prompt, least recently used first out.

    Args:
        identity: What makes the reflector's output a function of its prompt (see the module docstring).
        max_entries: The most reflections kept (at least 1).
        max_bytes: The most bytes of reflection text kept (UTF-8).
    """

    def __init__(self, identity: str, *, max_entries: int = 100_000, max_bytes: int = 64 * 2**20):
        if max_entries < 1 or max_bytes < 1:
            raise ValueError(f"max_entries and max_bytes must be at least 1, got {max_entries} and {max_bytes}.")
        self.identity = identity
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, tokens: Sequence[int]) -> str | None:
        """The reflection of ``tokens``, or ``None`` (a miss); a hit becomes the most recently used entry."""
        key = prompt_key(tokens)
        text = self._entries.get(key)
        if text is None:
            self.stats.misses += 1
            return None
        self._entries.move_to_end(key)
        self.count_repeats(1)
        return text

    def count_repeats(self, count: int) -> None:
        """Count ``count`` hits answered without a lookup (rows repeating a prompt another row of their batch
        generated), each credited with the mean generation seconds."""
        self.stats.hits += count
        generated = self.stats.misses  # every miss was generated once
        self.stats.saved_s += count * self.stats.generated_s / generated if generated else 0.0

    def put(self, tokens: Sequence[int], text: str) -> None:
        """Keep ``text`` as the reflection of ``tokens``, dropping the least recently used entries over the bounds."""
        key = prompt_key(tokens)
        if key in self._entries:
            self._bytes -= len(self._entries.pop(key).encode())
        self._entries[key] = text
        self._bytes += len(text.encode())
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped.encode())

    def snapshot(self) -> CacheStats:
        """A copy of the statistics so far, for :meth:`metrics` of what happens after."""
        return copy.copy(self.stats)

    def metrics(self, since: CacheStats) -> dict[str, float]:
        """Namespaced metrics of the lookups after the snapshot ``since``: hit rate, hits, seconds saved, size."""
        hits, misses = self.stats.hits - since.hits, self.stats.misses - since.misses
        return {
            "perf/reflect_cache_hit_rate": hits / max(hits + misses, 1),
            "perf/reflect_cache_hits": hits,
            "perf/reflect_cache_saved_s": self.stats.saved_s - since.saved_s,
            "perf/reflect_cache_entries": len(self),
        }

    def state_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot: identity and entries, oldest first."""
        return {"identity": self.identity, "entries": list(self._entries.items())}

    def load_state_dict(self, state: dict[str, Any]) -> bool:
        """Restore a snapshot of the same identity; return whether it was loaded (another identity's is not)."""
        if state.get("identity") != self.identity:
            return False
        self._entries.clear()
        self._bytes = 0
        for key, text in state["entries"]:
            self._entries[key] = text
            self._bytes += len(text.encode())
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped.encode())
        return True
