"""Toy text envs for the trainer's tests (registered on import), a tiny training config, hand-made episodes."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import torch

from reflect_agent.config import RLConfig, TrainConfig
from reflect_agent.episodes import Episode
from reflect_agent.pipeline import AgentConfig, HeldOutConfig, OnlineConfig, PipelineConfig, WarmupConfig
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_gym.core import TextEnv

BANDIT = "ReflectRLTest/ColorBandit-v0"
WALK = "ReflectRLTest/Corridor-v0"


class ColorBandit(TextEnv):
    """One decision: the blue card wins (reward 1), any other card loses (reward 0); both end the episode."""

    COLORS = ("red", "green", "blue", "yellow")

    def __init__(self, horizon: int = 1, render_mode: str | None = None):
        super().__init__(max_actions=4, max_length=200, horizon=horizon, render_mode=render_mode)

    def _reset_state(self, options):
        pass

    def _admissible_actions(self):
        return list(self.COLORS)

    def _state_text(self):
        return "Pick the blue card."

    def _apply(self, index):
        return (1.0, True, True) if index == 2 else (0.0, True, False)

    def expert_action(self):
        return 2


class Corridor(TextEnv):
    """Walk right ``length`` cells to win; left is a wall that ends the episode; truncated at the horizon."""

    def __init__(self, length: int = 3, horizon: int = 2, render_mode: str | None = None):
        super().__init__(max_actions=3, max_length=200, horizon=horizon, render_mode=render_mode)
        self.length = length
        self.position = 0

    def _reset_state(self, options):
        self.position = 0

    def _admissible_actions(self):
        return ["step right", "wait", "step left"]

    def _state_text(self):
        return f"You are {self.length - self.position} steps from the exit."

    def _apply(self, index):
        if index == 2:
            return -1.0, True, False
        self.position += index == 0
        won = self.position == self.length
        return (1.0 if won else -0.1), won, won

    def expert_action(self):
        return 0


for env_id, entry_point in ((BANDIT, ColorBandit), (WALK, Corridor)):
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=entry_point)


def tiny_config(tmp_path, **overrides) -> TrainConfig:
    config = TrainConfig(
        name="run",
        output_dir=str(tmp_path),
        env_id=BANDIT,
        num_envs=16,
        iterations=4,
        seed=0,
        use_reflector=False,
        # A low temperature widens the tiny model's narrow logit range (its frozen embeddings are small).
        policy=PolicyConfig(model="tiny", device="cpu", temperature=0.2),
        rl=RLConfig(learning_rate=1e-2, minibatch_size=8, micro_batch_size=4, update_epochs=4, ent_coef=0.0),
        replay_capacity=10,
        replay_episodes=2,
        checkpoint_every=1,
        keep_checkpoints=5,
        progress=False,
    )
    return dataclasses.replace(config, **overrides)


def tiny_pipeline(tmp_path, name: str, *, iterations=1, envs=2, episodes=2, zero_shot=False, tokens=4, **changes):
    """A main job (:class:`PipelineConfig`) of the tiny model with a few episodes; ``changes`` set fields of the
    config and its parts (``agent=dict(decider="scoring")``)."""
    parts = {
        "agent": AgentConfig(model="tiny", max_new_tokens=tokens),
        "warmup": WarmupConfig(episodes=episodes),
        "rl": OnlineConfig(iterations=iterations, num_envs=envs),
        "eval": HeldOutConfig(episodes=episodes, zero_shot=zero_shot),
    }
    for part, value in list(changes.items()):
        if part in parts and isinstance(value, dict):
            parts[part] = dataclasses.replace(parts[part], **changes.pop(part))
    return PipelineConfig(name=name, output_dir=str(tmp_path), progress=False, threads=1, **parts, **changes)


def trainable_state(policy: LMPolicy) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in policy.named_parameters() if p.requires_grad}


def stored_episode(
    seed: int,
    states: list[str],
    rewards: list[float],
    *,
    chosen: list[int] | None = None,
    actions: tuple[str, ...] = ("go", "stay"),
    reflections: list[str | None] | None = None,
    terminated: bool = True,
) -> Episode:
    """A hand-made episode, as a replay buffer stores one: ``actions`` offered in every state, ``chosen`` taken
    (the first action by default); a success when it terminates on a positive reward."""
    return Episode(
        states=list(states),
        actions=[list(actions)] * len(states),
        reflections=reflections or [None] * len(states),
        chosen=chosen if chosen is not None else [0] * len(states),
        rewards=list(rewards),
        terminated=terminated,
        success=terminated and rewards[-1] > 0,
        seed=seed,
    )
