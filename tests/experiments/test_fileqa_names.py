"""FileQA diagnostics on a small repository: the name-matching baseline, and right folders against finished episodes."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

from experiments.fileqa_names.folders import count
from experiments.fileqa_names.matcher import NameMatchAgent, name_score, name_words, question_keys
from reflect_gym.envs.fileqa.tasks import Task
from tests.utils import require_extra


def test_name_words_split_camel_case_and_leave_out_the_question_template():
    assert name_words("Which file defines the class HTTPError?") == {"http", "error"}
    assert name_words("_header_value_parser") == {"header", "value", "parser"}


def test_a_name_found_whole_in_the_question_outscores_a_shared_word():
    question = "Which file defines the function urlparse()?"
    assert name_score("parse.py", question) > name_score("parser.py", question) == 0
    assert name_score("__init__.py", question) == 0


@pytest.fixture
def repo(tmp_path):
    for path in ("json/__init__.py", "json/decoder.py", "json/encoder.py", "http/__init__.py", "http/cookies.py"):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text('"""A module."""\n')
    return str(tmp_path)


def make(repo: str, question: str, answer: str) -> gym.Env:
    return gym.make("ReflectRL/FileQA-v0", tasks=[Task(repo, question, (answer,), "code", 1)])


def play(env: gym.Env, agent: NameMatchAgent, seed: int = 0) -> tuple[list[str], bool]:
    """One episode: the commands the agent chose, and whether it succeeded."""
    obs, info = env.reset(seed=seed)
    commands = []
    done = False
    while not done:
        action = agent.act(obs, info)
        commands.append(info["actions"][action])
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    return commands, info["success"]


def successes(env: gym.Env, agent: NameMatchAgent, seeds: range) -> int:
    return sum(play(env, agent, seed)[1] for seed in seeds)


def test_the_agent_enters_the_matching_folder_and_names_the_matching_file(repo):
    env = make(repo, "Which file defines the class JSONDecoder?", "json/decoder.py")
    obs, info = env.reset(seed=0)
    agent = NameMatchAgent(depth=1)
    assert info["actions"][agent.act(obs, info)] == "cd json"
    obs, _, _, _, info = env.step(agent.act(obs, info))
    assert info["actions"][agent.act(obs, info)] == "id decoder.py"
    assert successes(env, agent, range(3)) == 3


def test_without_a_matching_name_the_agent_falls_back_to_the_package_module(repo):
    env = make(repo, 'Which file is the Python module whose docstring begins "Cookie handling."?', "http/cookies.py")
    for depth in (1, None):
        # No name matches "cookie" or "handling": it enters the first folder and names the package module.
        assert play(env, NameMatchAgent(depth=depth)) == (["cd http", "id __init__.py"], False)


def test_question_keys_are_what_the_answer_shows():
    assert question_keys('Which file defines the class Morsel, described as "A cookie."?') == ["Morsel"]
    assert question_keys('Which file is the Python module whose docstring begins "Cookie handling."?') == [
        "Cookie handling."
    ]
    assert question_keys("Which data file, with 9 rows, has the columns method and description?") == ["method"]
    assert question_keys("Which file is it?") == []


def test_the_reading_agent_names_the_file_that_shows_the_key(repo):
    (Path(repo) / "http/cookies.py").write_text('"""Cookie handling."""\n\nclass Morsel:\n    pass\n')
    env = make(repo, "Which file defines the class Morsel?", "http/cookies.py")
    assert successes(env, NameMatchAgent(depth=1), range(2)) == 0  # names alone pick __init__.py
    reader = NameMatchAgent(depth=1, reads=True)
    assert play(env, reader) == (["cd http", "cat __init__.py", "cat cookies.py", "id cookies.py"], True)
    # When no file shows the key, it names the best-scoring file after reading them all.
    env = make(repo, "Which file defines the class Biscuit?", "http/cookies.py")
    assert successes(env, reader, range(1)) == 0


def test_folder_counts_separate_the_first_step_from_the_rest(repo):
    env = make(repo, "Which file defines the class JSONDecoder?", "json/decoder.py")

    class Expert:
        def reset(self, seed):
            pass

        def act(self, obs, info):
            return env.unwrapped.expert_action()

    expert = count(env, Expert(), range(4))
    assert expert == {"episodes": 4, "first_step_right": 4, "success_from_right_folder": 4}

    class WrongFolderThenNames(NameMatchAgent):
        def act(self, obs, info):
            if "cd http" in info["actions"]:
                return info["actions"].index("cd http")
            return super().act(obs, info)

    lines: list[str] = []
    assert count(env, WrongFolderThenNames(depth=1), range(4), show=lines.append) == {
        "episodes": 4,
        "first_step_right": 0,
        "success_from_right_folder": 4,
    }
    assert lines[0] == "seed 0, success, answer json/decoder.py: id decoder.py" and len(lines) == 4


def test_observations_that_are_not_fileqa_are_refused():
    with pytest.raises(ValueError, match="FileQA observations"):
        NameMatchAgent().act("You are in a room.", {"actions": ["go north"]})


def test_the_baseline_plays_through_the_episode_runner(repo):
    require_extra("agent", "torch", "transformers")
    from reflect_agent.agents import play as play_agent
    from reflect_agent.episodes import make_envs

    task = Task(repo, "Which file defines the class JSONDecoder?", ("json/decoder.py",), "code", 1)
    envs = make_envs("ReflectRL/FileQA-v0", 2, env_kwargs={"tasks": [task]})
    episodes = play_agent(NameMatchAgent(depth=1), envs, range(3))
    envs.close()
    assert [e.success for e in episodes] == [True] * 3 and episodes[0].taken() == ["cd json", "id decoder.py"]
