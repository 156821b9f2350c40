"""TextActions parsing and the base contract's text helpers."""

from __future__ import annotations

import gymnasium as gym
import pytest

import reflect_gym  # noqa: F401
from reflect_gym import InvalidActionError, TextActions
from reflect_gym.core import CHARSET, PromptText, sanitize


@pytest.fixture
def env():
    env = TextActions(gym.make("ReflectRL/DangerousTaxi-v0"))
    env.reset(seed=0)
    return env


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("0", 0),
        ("5", 5),
        (" 3. ", 3),
        ("(2)", 2),
        ("[4]", 4),
        ("Action: 1", 1),
        ("action 1", 1),
        ("MOVE   North", 1),
        ("drop off passenger\n", 5),
        ("6", -1),
        ("12", -1),
        ("move up", -1),
        ("", -1),
        ("1 or 2", -1),
    ],
)
def test_parse(env, text, index):
    assert env.parse(text) == index


def test_unparseable_text_in_raise_mode_is_an_error():
    env = TextActions(gym.make("ReflectRL/DangerousTaxi-v0", invalid_action="raise"))
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="names no admissible action"):
        env.step("fly")


def test_non_integer_index_is_a_clear_error():
    env = gym.make("ReflectRL/DangerousTaxi-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="TextActions"):
        env.unwrapped.step("move north")
    with pytest.raises(ValueError, match="outside the action space"):
        env.unwrapped.step(1.5)


def test_sanitize_keeps_the_charset_and_replaces_the_rest():
    text = sanitize("tab\there\r\nnew → x 漢 😀")
    assert text == "tab    here\nnew → x \ufffd \ufffd"
    assert all(c in CHARSET for c in text)
    assert PromptText(4096).contains(text)
    assert repr(PromptText(10)) == "PromptText(min_length=1, max_length=10)"
