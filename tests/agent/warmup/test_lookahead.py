"""Look-ahead by replay: it finds the actions that end the episode and the expert's distance to the goal."""

from __future__ import annotations

import gymnasium as gym
import pytest

from reflect_agent.warmup import look_ahead

TAXI = "ReflectRL/DangerousTaxi-v0"


def test_look_ahead_agrees_with_the_env_on_fatal_actions_and_the_distance():
    env, spare = gym.make(TAXI), gym.make(TAXI)
    _, info = env.reset(seed=5)
    taken = []
    for _ in range(3):
        seen = look_ahead(spare, 5, taken, info["state"])
        assert seen.expert_steps == env.unwrapped.steps_to_goal()
        assert [i for i, o in enumerate(seen.outcomes) if o.fatal] == env.unwrapped.wasted_actions()
        expert = env.unwrapped.expert_action()
        assert seen.outcomes[expert].steps_after in (0, seen.expert_steps - 1)
        taken.append(expert)
        _, _, terminated, _, info = env.step(expert)
        if terminated:
            break


def test_a_replay_that_reaches_another_state_is_an_error():
    spare = gym.make(TAXI)
    with pytest.raises(RuntimeError, match="deterministic given its seed"):
        look_ahead(spare, 0, [], "a state this env never shows")
