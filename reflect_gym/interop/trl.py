"""A ReflectRL env as a TRL ``GRPOTrainer`` environment: a language model plays an episode by calling tools.

TRL (1.x) trains a model on an environment given as ``GRPOTrainer(environment_factory=...)``: a callable that
builds one environment object per rollout. TRL calls the object's ``reset(**row)`` with the dataset row of the
rollout and appends the text it returns to the row's last user message; it offers every other public method to the
model as a tool (its name, typed arguments and docstring make the tool's schema), calls the tools the model asks
for and shows it what they return; after the rollout, ``get_reward()`` scores it. Nothing here imports TRL::

    from trl import GRPOConfig, GRPOTrainer
    from reflect_gym.interop.trl import environment_factory

    trainer = GRPOTrainer(
        model=model,  # a causal LM whose chat template renders tool calls
        processing_class=tokenizer,
        args=GRPOConfig(output_dir="runs/taxi", max_steps=100),
        train_dataset=dataset,  # a "prompt" column, and a "seed" column that picks each episode
        environment_factory=environment_factory("ReflectRL/DangerousTaxi-v0"),
    )

``examples/trl_grpo.py`` runs this end to end. The model acts with two tools, :meth:`ReflectToolEnv.act` (the
action's text or label, read as :class:`reflect_gym.wrappers.TextActions` reads it) and
:meth:`ReflectToolEnv.act_by_index` (its index, stepped as the Gymnasium env steps it); see
:mod:`reflect_gym.interop.episode`. Each returns the step's reward, how the episode stands and the next
observation. The reward TRL trains on is the episode's return so far: the sum of the rewards of the steps the
model took, ``0.0`` if it took none.

A dataset row's ``seed`` (an ``int``) seeds the episode; TRL repeats a row for each generation of a group, so a
group plays one episode and GRPO compares like with like. Without a ``seed`` column every reset draws a new episode
from the env's own random state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from reflect_gym.interop.episode import Episode, EpisodeStep

#: What :meth:`ReflectToolEnv.reset` puts before the first observation, unless told otherwise.
INSTRUCTIONS = (
    "You are playing a text game. Each turn, call the tool act with one of the actions listed below "
    '(its text, e.g. "move north", or its number), or act_by_index with its number. The game tells you the reward '
    "of each action; play until the episode ends, collecting as much reward as you can."
)


class ReflectToolEnv:
    """A ReflectRL env (``gym.make(env_id, **make_kwargs)``) whose episode a language model plays through tools.

    Its public methods are TRL's environment protocol: ``reset`` and ``get_reward`` for the trainer, and the tools
    :meth:`act` and :meth:`act_by_index` for the model (TRL offers every other public method as a tool, so this
    class has no others). The read-only properties tell how the episode stands.

    Args:
        env_id: A registered ReflectRL id, e.g. ``"ReflectRL/DangerousTaxi-v0"``.
        instructions: Text put before the first observation (``""``: the observation alone).
        **make_kwargs: Keyword arguments of ``gym.make`` (the env's own arguments).
    """

    def __init__(self, env_id: str, *, instructions: str = INSTRUCTIONS, **make_kwargs: Any):
        self._episode = Episode(env_id, **make_kwargs)
        self._instructions = instructions

    # ----------------------------------------------------------------------------------------------
    # The trainer's side of the protocol.

    def reset(self, **row: Any) -> str:
        """Start an episode; returns the text TRL appends to the prompt: the instructions, then the observation.

        Args:
            **row: The dataset row of the rollout. ``seed`` (an ``int``), if present, seeds the episode; the rest
                is ignored, but for ``prompt``, whose last message decides whether the text needs a leading
                blank line.
        """
        seed = row.get("seed")
        observation, _ = self._episode.reset(seed=None if seed is None else int(seed))
        text = f"{self._instructions}\n\n{observation}" if self._instructions else observation
        return f"\n\n{text}" if _last_content(row.get("prompt")) else text

    def get_reward(self) -> float:
        """The episode's return so far: the sum of the rewards of the steps taken (``0.0`` before any)."""
        return self._episode.episode_return

    # ----------------------------------------------------------------------------------------------
    # The model's tools. Their docstrings are the tools' descriptions in the prompt.

    def act(self, action: str) -> str:
        """Take an action in the game.

        Args:
            action: The action, written as it is listed (e.g. "move north") or as its number (e.g. "2").

        Returns:
            The reward of the action, whether the episode has ended, and what the game shows next.
        """
        self._check_playing()
        return _report(self._episode.step_text(str(action)), action)

    def act_by_index(self, index: int) -> str:
        """Take the action with the given number in the list of actions.

        Args:
            index: The number of the action in the list (0 is the first).

        Returns:
            The reward of the action, whether the episode has ended, and what the game shows next.
        """
        self._check_playing()
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"index must be an integer, the number of an action in the list; got {index!r}.")
        return _report(self._episode.step_index(index), index)

    # ----------------------------------------------------------------------------------------------
    # How the episode stands (properties, which TRL does not offer as tools).

    @property
    def env_id(self) -> str:
        """The id of the env played."""
        return self._episode.env_id

    @property
    def env(self) -> gym.Env:
        """The Gymnasium env played (wrapped in :class:`reflect_gym.wrappers.NoActionAsInvalid`)."""
        return self._episode.env

    @property
    def observation(self) -> str:
        """The env's current observation."""
        return self._episode.observation

    @property
    def episode_return(self) -> float:
        """The sum of the episode's rewards so far."""
        return self._episode.episode_return

    @property
    def steps(self) -> int:
        """Steps taken in the episode (invalid actions count)."""
        return self._episode.steps

    @property
    def done(self) -> bool:
        """Whether the episode has ended."""
        return self._episode.done

    @property
    def success(self) -> bool:
        """Whether the episode was won."""
        return self._episode.success

    def _check_playing(self) -> None:
        """Refuse a step after the end, in words for the model (TRL shows it a tool's exception as an error)."""
        if not self._episode.started:
            raise gym.error.ResetNeeded(f"{self.env_id}: no episode has started; the trainer calls reset() first.")
        if self._episode.done:
            raise gym.error.ResetNeeded(f"The episode has ended ({_ending(self._episode)}); no action is taken now.")


def environment_factory(
    env_id: str, *, instructions: str = INSTRUCTIONS, **make_kwargs: Any
) -> Callable[[], ReflectToolEnv]:
    """The ``environment_factory`` of ``GRPOTrainer`` for ``env_id``: each call builds a :class:`ReflectToolEnv`.

    One env is built here and thrown away, so that an unknown id, a wrong argument or a missing extra fails now,
    naming itself, rather than inside the trainer.

    Args:
        env_id: A registered ReflectRL id.
        instructions: Text put before the first observation of each episode.
        **make_kwargs: Keyword arguments of ``gym.make``.
    """
    ReflectToolEnv(env_id, instructions=instructions, **make_kwargs)._episode.close()
    return functools.partial(ReflectToolEnv, env_id, instructions=instructions, **make_kwargs)


def _report(step: EpisodeStep, action: Any) -> str:
    """What a tool returns after ``step``: the reward and how the episode stands, then the observation."""
    lines = [f"Reward: {step.reward:g}."]
    if step.info["invalid_action"]:
        lines.append(f"Invalid action: {action!r} names none of the listed actions; the game state is unchanged.")
    if step.terminated:
        lines.append("The episode has ended: " + ("you won." if step.info["success"] else "it is lost."))
    elif step.truncated:
        lines.append("The episode has ended: the step limit was reached.")
    return "\n".join(lines) + "\n\n" + step.observation


def _ending(episode: Episode) -> str:
    if episode.success:
        return "won"
    return "lost" if episode.terminated else "the step limit was reached"


def _last_content(prompt: Any) -> str:
    """The text of a TRL prompt's last message (conversational) or of the prompt itself (standard)."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and prompt and isinstance(prompt[-1], dict):
        content = prompt[-1].get("content", "")
        return content if isinstance(content, str) else " ".join(str(part) for part in content)
    return ""
