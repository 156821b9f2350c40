"""The reflection cache: least recently used out, bounded by entries and bytes, one reflector identity."""

from __future__ import annotations

import pytest

from reflect_agent.reflection_cache import ReflectionCache, prompt_key


def test_hits_misses_and_the_least_recently_used_entry_leaves_first():
    cache = ReflectionCache("r", max_entries=2)
    cache.put([1, 2], "a")
    cache.put([3], "b")
    assert cache.get([1, 2]) == "a"  # now [3] is the least recently used
    cache.put([4], "c")
    assert cache.get([3]) is None and cache.get([4]) == "c" and len(cache) == 2
    assert (cache.stats.hits, cache.stats.misses) == (2, 1)
    assert cache.stats.hit_rate == pytest.approx(2 / 3)


def test_the_byte_bound_drops_old_texts_and_keys_are_the_exact_tokens():
    cache = ReflectionCache("r", max_bytes=10)
    cache.put([1], "12345")
    cache.put([2], "67890")
    cache.put([3], "é")  # two bytes: [1] must go
    assert cache.get([1]) is None and cache.get([2]) == "67890"
    assert prompt_key([1, 23]) != prompt_key([12, 3])


def test_saved_seconds_credit_each_hit_with_the_mean_generation_time():
    cache = ReflectionCache("r")
    assert cache.get([1]) is None and cache.get([2]) is None
    cache.stats.generated_s += 4.0  # two reflections generated in 4 s
    cache.put([1], "a")
    cache.put([2], "b")
    cache.get([1])
    assert cache.stats.saved_s == pytest.approx(2.0)


def test_a_snapshot_loads_only_into_a_cache_of_the_same_reflector():
    cache = ReflectionCache("reflector-a")
    cache.put([1], "a")
    other = ReflectionCache("reflector-b")
    assert not other.load_state_dict(cache.state_dict()) and len(other) == 0
    same = ReflectionCache("reflector-a", max_entries=5)
    assert same.load_state_dict(cache.state_dict()) and same.get([1]) == "a"


def test_bounds_must_be_positive():
    with pytest.raises(ValueError, match="max_entries and max_bytes must be at least 1"):
        ReflectionCache("r", max_entries=0)
