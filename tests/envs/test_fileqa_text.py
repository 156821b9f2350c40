"""FileQA's text under hostile names and questions: names in any script show distinct and can be acted on by the
text of their commands, long names are shortened, and the commands and the question always fit the observation."""

from __future__ import annotations

import hashlib
import os

import gymnasium as gym
import numpy as np
import pytest

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_gym import TextActions
from reflect_gym.core import CHARSET
from reflect_gym.envs.fileqa import Task, command_history, last_result

SECTIONS = ("# Task\n", "# Current directory\n", "# Entries\n", "# Command history\n", "# Result of the last command\n")


def write_files(repo: str, files: dict[str, str]) -> None:
    os.makedirs(repo, exist_ok=True)
    for name, content in files.items():
        with open(os.path.join(repo, name), "w", encoding="utf-8") as file:
            file.write(content)


def make(repo: str, answer: str, question: str = "Which file is it?", **kwargs) -> gym.Env:
    return gym.make("ReflectRL/FileQA-v0", tasks=[Task(repo, question, (answer,), "code", 0)], **kwargs)


def shown_commands(obs: str) -> list[str]:
    """The commands as the observation numbers them (its last paragraph), without their labels."""
    lines = obs.rsplit("\n\n", 1)[1].split("\n")
    assert [line.split(". ", 1)[0] for line in lines] == [str(i) for i in range(len(lines))]
    return [line.split(". ", 1)[1] for line in lines]


def entries(obs: str) -> list[str]:
    return obs.split("# Entries\n", 1)[1].split("\n\n", 1)[0].split("\n")


def test_names_in_other_scripts_show_distinct_and_open_by_the_text_an_agent_reads(tmp_path):
    files = {
        "数据.py": "DATA = 'zh'\n",
        "文件.py": "FILE = 'zh'\n",
        "データ.py": "DATA = 'ja'\n",
        "데이터.py": "DATA = 'ko'\n",
        "بيانات.py": "DATA = 'ar'\n",
        "נתונים.py": "DATA = 'he'\n",
        "ሰላም.py": "HELLO = 'am'\n",  # Ethiopic: outside the charset, so escaped rather than shown as U+FFFD
        "ዓለም.py": "WORLD = 'am'\n",
    }
    write_files(str(tmp_path), files)
    env = TextActions(make(str(tmp_path), "数据.py"))
    obs, info = env.reset(seed=0)
    shown = entries(obs)
    assert {"数据.py", "文件.py", "データ.py", "데이터.py", "بيانات.py", "נתונים.py"} <= set(shown)
    assert '"\\u1230\\u120b\\u121d.py"' in shown and len(set(shown)) == len(files)
    assert all(c in CHARSET for c in obs) and "\ufffd" not in obs
    opened = {}
    for command in shown_commands(obs):  # each command as the agent reads it, typed back as text
        if command.startswith("cat "):
            obs, _, _, _, info = env.step(command)
            assert info["parsed_action"] >= 0 and f"cat {command[4:]}" in command_history(info["state"])
            opened[command[4:]] = last_result(info["state"]).split("\n")[1]
    assert sorted(opened.values()) == sorted(content.strip() for content in files.values())
    assert opened["数据.py"] == "DATA = 'zh'" and opened["文件.py"] == "FILE = 'zh'"
    obs, reward, terminated, _, info = env.step("id 数据.py")
    assert terminated and info["success"] and "Identified 数据.py: correct." in obs


def test_names_that_differ_in_case_only_open_by_their_own_text(tmp_path):
    write_files(str(tmp_path), {"README.md": "upper\n", "readme.md": "lower\n"})
    env = TextActions(make(str(tmp_path), "readme.md"))
    env.reset(seed=0)
    for name, content in (("readme.md", "lower"), ("README.md", "upper"), ("ReadMe.md", "upper")):
        *_, info = env.step(f"cat {name}")  # the exact text first; another case falls back to the first match
        assert last_result(info["state"]).split("\n")[1] == content, name


@pytest.mark.parametrize("max_length", [4096, 1024])
def test_twenty_long_emoji_names_keep_every_command_distinct_and_the_question(tmp_path, max_length):
    # 62 emoji each, alike but for one in the middle: a cut keeping the start and the end alone would merge them.
    names = ["\U0001f600" * 30 + chr(0x1F601 + k) + "\U0001f600" * 31 + ".py" for k in range(20)]
    write_files(str(tmp_path), {name: f"NUMBER = {k}\n" for k, name in enumerate(names)})
    question = "Which file sets NUMBER to 7?"
    env = TextActions(make(str(tmp_path), names[7], question, max_length=max_length))
    obs, info = env.reset(seed=0)
    identify = []
    while True:
        assert len(obs) <= max_length and f"Question: {question}\n" in obs
        assert shown_commands(obs) == info["actions"]  # every command of the page, whole
        assert len(obs.rsplit("\n\n", 1)[1]) <= max_length // 2
        assert all(len(command) <= len("cat ") + 40 for command in info["actions"])
        identify += [command for command in info["actions"] if command.startswith("id ")]
        if "next page" not in info["actions"]:
            break
        obs, *_, info = env.step("next page")
    assert len(identify) == 20 and len(set(identify)) == 20
    _, info = env.reset(seed=0)
    opened = set()
    for _ in range(20):  # read every file through the text of its command, turning pages as needed
        unread = [c for c in info["actions"] if c.startswith("cat ") and c not in opened]
        if not unread:
            *_, info = env.step("next page")
            continue
        *_, info = env.step(unread[0])
        opened.add(unread[0])
        content = last_result(info["state"]).split("\n")[1]
        if content == "NUMBER = 7":
            *_, terminated, _, info = env.step("id " + unread[0][len("cat ") :])
            assert terminated and info["success"]
            return
    pytest.fail(f"the answer was never opened; read {sorted(opened)}")


def test_a_long_name_beside_a_file_named_like_its_short_form_shows_both_distinct(tmp_path):
    long = "configuration_" * 10 + "loader.py"
    digest = hashlib.sha256(long.encode()).hexdigest()
    short = f"{long[:20]}\u2026{digest[:8]}\u2026{long[-10:]}"  # the form the Action Space section documents
    write_files(str(tmp_path), {long: "LONG = 1\n", short: "SHORT = 1\n"})
    env = TextActions(make(str(tmp_path), long))
    obs, info = env.reset(seed=0)
    assert f"cat {short}" in info["actions"]
    assert f"cat {long[:20]}\u2026{digest}\u2026{long[-10:]}" in info["actions"]  # the long name, whole digest
    *_, info = env.step(f"cat {short}")
    assert last_result(info["state"]).split("\n")[1] == "SHORT = 1"
    *_, info = env.step(f"cat {long[:20]}\u2026{digest}\u2026{long[-10:]}")
    assert last_result(info["state"]).split("\n")[1] == "LONG = 1"


def test_a_ten_megabyte_question_is_cut_and_leaves_the_state_and_every_command(tmp_path):
    write_files(str(tmp_path), {"a.py": "A = 1\n", "b.py": "B = 1\n"})
    question = "Which file defines A? " + "Think it over. " * (10 * 2**20 // 15)
    env = make(str(tmp_path), "a.py", question)
    obs, info = env.reset(seed=0)
    obs, *_, info = env.step(info["actions"].index("cat a.py"))
    assert len(obs) <= 4096 and shown_commands(obs) == info["actions"] == ["cat a.py", "id a.py", "cat b.py", "id b.py"]
    assert all(section in obs for section in SECTIONS)
    assert entries(obs) == ["a.py", "b.py"] and command_history(info["state"]) == ["cat a.py"]
    assert last_result(info["state"]) == "Content of a.py:\nA = 1"
    shown = obs.split("Question: ", 1)[1].split("\n", 1)[0]
    assert shown.startswith("Which file defines A? Think it over.") and shown.endswith(
        "[... cut to fit the observation limit]"
    )
    assert len(shown) <= 4096 // 4


def test_a_full_observation_cuts_the_listing_the_history_and_the_file_before_the_question(tmp_path):
    line = "x = 1  # a line of forty characters ...\n"
    write_files(str(tmp_path), {f"module_{k:02d}.py": line * 100 for k in range(14)})
    question = "Which module sets x? " + "Read them all. " * 25  # about 400 characters, under its quarter
    env = make(str(tmp_path), "module_00.py", question, max_length=2048, max_output_chars=1200)
    obs, info = env.reset(seed=0)
    for command in ("cat module_02.py", "cat module_03.py"):
        obs, *_, info = env.step(info["actions"].index(command))
    assert len(obs) <= 2048 and shown_commands(obs) == info["actions"] and f"Question: {question}\n" in obs
    assert all(section in obs for section in SECTIONS) and "# Current directory\n" + os.path.basename(tmp_path) in obs
    assert command_history(info["state"]) == []  # both commands cut, as the listing and the file's end
    listing, result = entries(obs), last_result(info["state"]).split("\n")
    assert listing[-1] == result[-1] == "[... cut to fit the observation limit]"
    assert listing[:-1] == [f"module_{k:02d}.py" for k in range(len(listing) - 1)]  # whole lines, in order
    assert result[0] == "Content of module_03.py:" and set(result[1:-1]) == {line.strip()} and len(result) > 10


def test_an_observation_limit_too_small_for_a_page_of_commands_is_refused(tmp_path):
    write_files(str(tmp_path), {"a.py": "A = 1\n"})
    with pytest.raises(ValueError, match=r"max_length must be at least 504 for max_actions=30: .*got 400\."):
        make(str(tmp_path), "a.py", max_length=400)
    make(str(tmp_path), "a.py", max_length=504).reset(seed=0)


def test_an_async_vector_env_returns_names_in_other_scripts_unchanged(tmp_path):
    write_files(str(tmp_path), {"数据.py": "DATA = 1\n", "\U0001f600 ok.py": "OK = 1\n"})
    task = Task(str(tmp_path), "Which file holds DATA? 数据 😀", ("数据.py",), "code", 0)
    single = gym.make("ReflectRL/FileQA-v0", tasks=[task])
    envs = gym.make_vec("ReflectRL/FileQA-v0", num_envs=2, vectorization_mode="async", tasks=[task])
    try:
        obs, infos = envs.reset(seed=0)
        expected, _ = single.reset(seed=0)
        assert obs[0] == expected and "数据.py" in expected and "数据 😀" in expected
        obs, *_ = envs.step(np.array([infos["actions"][0].index("cat 数据.py")] * 2))
        expected, *_ = single.step(single.unwrapped.actions.index("cat 数据.py"))
        assert obs[0] == expected and "Content of 数据.py:\nDATA = 1" in expected
    finally:
        envs.close()
        single.close()
