"""TextActions parsing and the base contract's text helpers."""

from __future__ import annotations

import gymnasium as gym
import pytest

import reflect_gym  # noqa: F401
from reflect_gym import InvalidActionError, TextActions
from reflect_gym.core import CHARSET, PromptText, sanitize
from reflect_gym.wrappers import NO_ACTION, parse_action

TAXI_ACTIONS = ["move south", "move north", "move east", "move west", "pick up passenger", "drop off passenger"]


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


def test_a_number_of_thousands_of_digits_names_no_action():
    # Python refuses int() of more than 4,300 digits; such a text is just an unknown label.
    assert parse_action("9" * 5000, TAXI_ACTIONS) == NO_ACTION
    assert parse_action("0" * 5000 + "3", TAXI_ACTIONS) == 3
    assert parse_action("1" * 5000 + ". move north", TAXI_ACTIONS, reply=True) == NO_ACTION


@pytest.mark.parametrize(
    ("reply", "index"),
    [
        ("2", 2),
        (" (1) ", 1),
        ("Move West", 3),
        ("I choose:\n**2. move east**", 2),  # line by line, Markdown stripped, a numbered entry
        ("<think>5 looks wrong</think>\n1", 1),
        ("`4`", 4),
        ("Action: 0 (the passenger is south)", 0),
        ("move north, then east", 1),  # an action string at the start of a line
        ("9", NO_ACTION),
        ("fly away", NO_ACTION),
        ("I would go north", NO_ACTION),
        ("", NO_ACTION),
    ],
)
def test_a_models_reply_is_read_line_by_line(reply, index):
    assert parse_action(reply, TAXI_ACTIONS, reply=True) == index


@pytest.mark.parametrize(
    ("reply", "index"),
    [(" B", 1), ("B. move north", 1), ("(A)", 0), ("Action: F", 5), ("\nB. move north\nA.", 1), ("b", NO_ACTION)],
)
def test_letter_labels_are_read_case_sensitively(reply, index):
    assert (
        parse_action(reply, TAXI_ACTIONS, labels=[" A", " B", " C", " D", " E", " F", " a", " b"], reply=True) == index
    )


def test_the_default_rule_reads_only_a_whole_label_or_action():
    assert parse_action("2. move east", TAXI_ACTIONS) == NO_ACTION
    assert parse_action("2. move east", TAXI_ACTIONS, reply=True) == 2


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
    text = sanitize("tab\there\r\nnew → x 漢 😀 \u1230")  # Ethiopic is outside the charset
    assert text == "tab    here\nnew → x 漢 😀 \ufffd"
    assert all(c in CHARSET for c in text)
    assert PromptText(4096).contains(text)
    assert repr(PromptText(10)) == "PromptText(min_length=1, max_length=10)"
