"""Evaluate agents on ReflectRL envs: one cell, or a matrix of envs x agents with a Markdown table.

    python -m benchmarks.evaluate --env DangerousTaxi-v0 --agent expert --episodes 100 --seed 0 --out results.json
    python -m benchmarks.evaluate --env all --agent random expert --episodes 50 --out results.json
    python -m benchmarks.evaluate --env DangerousTaxi-v0 FileQA-Depth1-v0 --agent lm:smollm2 lm:smollm2+reflect \\
        --episodes 30 --out results.json --table results.md

Episode ``i`` of a cell runs on a fresh reset with seed ``seed + i``, so every agent meets the same
episodes. Per cell: success rate with its 95% Wilson interval, mean return, mean steps, the share of
steps that were invalid actions, and decisions per second (decisions over the wall time spent in the
agent). Agents with ``batch_size > 1`` (language models) act on several episodes at once, one env each.

Results are written atomically after each cell; a rerun skips the cells already in ``--out`` with the
same settings, so an interrupted matrix resumes where it stopped. Envs whose optional extra is missing,
and classical baselines on envs without a structured state, are recorded as skipped with the reason; a
cell that raises is recorded as failed with its error, the others still run, and the exit status is 1.
Env ids may omit the ``ReflectRL/`` namespace; ``all`` means every registered ReflectRL id.

``--env-kwargs PATTERN:KEY=VALUE`` passes ``gym.make`` arguments to the envs whose id (namespace left out)
matches the shell-style pattern, for instance ``'BabyAI-*:horizon=64'`` or ``ALFWorld-v0:max_actions=52``
(an LM policy has 52 single-token labels); values are read as JSON when they parse, else as strings. A
cell's env arguments are part of its settings.

``--decider scoring`` makes LM agents score each admissible action's text as a continuation of the prompt
(:class:`reflect_agent.deciders.CandidateScoringDecider`) instead of reading one label per action; a checkpoint
keeps the decider it was trained with unless this is given. ``--repeat-penalty X`` takes X nats off an LM
agent's score of an action for each time its episode already took it (``PolicyConfig.repeat_penalty``).
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import json
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import DependencyNotInstalled
from tqdm.auto import tqdm

import reflect_gym
from benchmarks.baselines import DEFAULT_TIMESTEPS
from reflect_agent.stats import wilson_interval
from reflect_gym.files import atomic_write

NAMESPACE = "ReflectRL/"
RESULTS_FORMAT = 1


class SkipCell(Exception):
    """A cell that cannot run here (a missing extra, no structured state); the message says why."""


@dataclass
class _Episode:
    """An episode running in one env of :func:`run_episodes`."""

    obs: str
    info: dict[str, Any]
    total_reward: float = 0.0
    steps: int = 0
    success: bool = False
    previous_action: str | None = None
    taken: list[str] = field(default_factory=list)

    def agent_info(self) -> dict[str, Any]:
        """The info the agent sees: the env's, plus the text of the previous action (for reflectors) and of all
        the episode's actions so far (for a policy's ``repeat_penalty``)."""
        return {**self.info, "previous_action": self.previous_action, "taken": list(self.taken)}


def registered_env_ids() -> list[str]:
    """Every registered ``ReflectRL/*`` id, sorted."""
    return sorted(env_id for env_id in gym.registry if env_id.startswith(NAMESPACE))


def resolve_env_ids(names: Sequence[str]) -> list[str]:
    """Full env ids for ``names``: ``all`` expands to every ReflectRL id; the namespace may be left out.

    Raises:
        ValueError: If a name is not a registered ReflectRL id.
    """
    known = registered_env_ids()
    env_ids: list[str] = []
    for name in names:
        candidates = known if name == "all" else [name if "/" in name else NAMESPACE + name]
        for env_id in candidates:
            if env_id not in known:
                raise ValueError(f"Unknown env {name!r}; use 'all' or one of: {', '.join(known)}.")
            if env_id not in env_ids:
                env_ids.append(env_id)
    return env_ids


def parse_env_kwargs(items: Sequence[str]) -> list[tuple[str, str, Any]]:
    """``(pattern, key, value)`` of each ``PATTERN:KEY=VALUE``; values are JSON when they parse.

    Raises:
        ValueError: If an item is not of that form.
    """
    parsed = []
    for item in items:
        pattern, _, assignment = item.partition(":")
        key, equals, raw = assignment.partition("=")
        if not (pattern and key.isidentifier() and equals):
            raise ValueError(f"--env-kwargs {item!r} is not PATTERN:KEY=VALUE, e.g. 'BabyAI-*:horizon=64'.")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        parsed.append((pattern, key, value))
    return parsed


def env_kwargs_for(env_id: str, env_kwargs: Sequence[tuple[str, str, Any]]) -> dict[str, Any]:
    """The ``gym.make`` arguments of ``env_id`` (later patterns override earlier ones)."""
    name = env_id.removeprefix(NAMESPACE)
    return {key: value for pattern, key, value in env_kwargs if fnmatch.fnmatchcase(name, pattern)}


def make_env(env_id: str, kwargs: dict[str, Any]) -> gym.Env:
    """``gym.make(env_id, **kwargs)``; a missing optional dependency raises :class:`SkipCell`."""
    try:
        return gym.make(env_id, **kwargs)
    except (DependencyNotInstalled, ModuleNotFoundError) as error:
        raise SkipCell(f"{env_id} needs an optional dependency: {error}") from error


def build_agent(spec: str, env: gym.Env, options: dict[str, Any]) -> Any:
    """The agent of ``spec`` acting in ``env``; ``options`` holds the CLI's agent options.

    Raises:
        SkipCell: For a classical baseline on an env without a structured state.
    """
    kind = spec.partition(":")[0]
    if kind == "sb3":
        from benchmarks.baselines import NoStructuredStateError, make_sb3_agent

        try:
            return make_sb3_agent(
                spec, env, timesteps=options["sb3_timesteps"], seed=options["sb3_seed"], progress=options["progress"]
            )
        except NoStructuredStateError as error:
            raise SkipCell(str(error)) from error

    from reflect_agent.agents import make_agent

    if kind == "lm":
        return make_agent(spec, env, **options["lm"])
    if kind == "openai":
        return make_agent(spec, env, **options["openai"])
    return make_agent(spec, env)


def cell_settings(env_id: str, spec: str, episodes: int, seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """The settings that decide a cell's result; a stored cell is reused only when they match."""
    settings: dict[str, Any] = {
        "episodes": episodes,
        "seed": seed,
        "env_kwargs": env_kwargs_for(env_id, options["env_kwargs"]),
    }
    if spec.startswith("lm:"):
        settings.update(autocast=options["lm"]["autocast"], decider=options["lm"]["decider"])
        if options["lm"].get("repeat_penalty") is not None:
            settings.update(repeat_penalty=options["lm"]["repeat_penalty"])
        if spec.endswith("+reflect"):
            settings.update(max_new_tokens=options["lm"]["max_new_tokens"])
    if spec.startswith("sb3:"):
        settings.update(sb3_timesteps=options["sb3_timesteps"], sb3_seed=options["sb3_seed"])
    return settings


def run_episodes(
    envs: Sequence[gym.Env], agent: Any, episodes: int, seed: int, progress: tqdm | None = None
) -> dict[str, Any]:
    """Run ``episodes`` episodes (episode ``i`` reset with seed ``seed + i``) and measure them.

    Up to ``len(envs)`` episodes run at once, one per env; each decision round asks the agent for the
    actions of every running episode in one ``act_batch`` call. An action of ``-1`` (the agent named no
    admissible action) is stepped as an invalid action with ``env.unwrapped.step_invalid``. The agent's
    ``info`` also holds ``previous_action``, the text of the episode's last admissible action taken, and
    ``taken``, the texts of all its admissible actions so far.

    Args:
        envs: The envs to run episodes in; an agent built for one env must be given just that env.
        agent: The agent.
        episodes: Number of episodes, at least 1.
        seed: Seed of the first episode.
        progress: Optional progress bar, advanced once per finished episode.

    Returns:
        The cell's metrics: ``success_rate``, ``success_ci95``, ``mean_return``, ``mean_steps``,
        ``invalid_action_rate``, ``decisions_per_second``, and the raw counts.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}.")
    agent.reset(seed=seed)
    returns: list[float] = []
    lengths: list[int] = []
    successes = invalid_steps = decisions = 0
    act_seconds = 0.0
    started = time.perf_counter()

    # running[i] is the episode under way in envs[i], None once no episode is left to start there.
    running: list[_Episode | None] = [None] * len(envs)
    next_episode = 0
    for slot in range(min(len(envs), episodes)):
        running[slot] = _Episode(*envs[slot].reset(seed=seed + next_episode))
        next_episode += 1
    while any(episode is not None for episode in running):
        slots = [slot for slot, episode in enumerate(running) if episode is not None]
        tic = time.perf_counter()
        actions = agent.act_batch([running[slot].obs for slot in slots], [running[slot].agent_info() for slot in slots])
        act_seconds += time.perf_counter() - tic
        decisions += len(slots)
        for slot, action in zip(slots, actions, strict=True):
            env, episode = envs[slot], running[slot]
            if action < 0:
                step = env.unwrapped.step_invalid("the agent named no admissible action")
            else:
                step = env.step(action)
            admissible = 0 <= action < len(episode.info["actions"])
            episode.previous_action = episode.info["actions"][action] if admissible else None
            if admissible:
                episode.taken.append(episode.previous_action)
            episode.obs, reward, terminated, truncated, episode.info = step
            episode.total_reward += reward
            episode.steps += 1
            episode.success = episode.success or bool(episode.info["success"])
            invalid_steps += bool(episode.info["invalid_action"])
            if not (terminated or truncated):
                continue
            returns.append(episode.total_reward)
            lengths.append(episode.steps)
            successes += episode.success
            if progress is not None:
                progress.update(1)
            running[slot] = None
            if next_episode < episodes:
                running[slot] = _Episode(*env.reset(seed=seed + next_episode))
                next_episode += 1

    low, high = wilson_interval(successes, episodes)
    steps = int(sum(lengths))
    return {
        "success_rate": successes / episodes,
        "success_ci95": [low, high],
        "mean_return": float(np.mean(returns)),
        "mean_steps": steps / episodes,
        "invalid_action_rate": invalid_steps / steps,
        "decisions_per_second": decisions / max(act_seconds, 1e-9),
        "successes": successes,
        "steps": steps,
        "decisions": decisions,
        "wall_seconds": time.perf_counter() - started,
    }


def evaluate_cell(
    env_id: str, spec: str, episodes: int, seed: int, options: dict[str, Any], position: int = 0
) -> dict[str, Any]:
    """Evaluate agent ``spec`` on ``env_id``: a result cell, or a skipped cell with its reason."""
    cell: dict[str, Any] = {"env": env_id, "agent": spec, **cell_settings(env_id, spec, episodes, seed, options)}
    kwargs = env_kwargs_for(env_id, options["env_kwargs"])
    try:
        envs = [make_env(env_id, kwargs)]
    except SkipCell as reason:
        return {**cell, "skipped": str(reason), "metadata": metadata(None)}
    try:
        tic = time.perf_counter()
        agent = build_agent(spec, envs[0], options)
        build_seconds = time.perf_counter() - tic
        batch = max(1, min(int(getattr(agent, "batch_size", 1)), episodes))
        envs += [gym.make(env_id, **kwargs) for _ in range(batch - 1)]
        with tqdm(total=episodes, desc=f"{env_id.removeprefix(NAMESPACE)} | {spec}", unit="ep",
                  disable=not options["progress"], leave=False, position=position) as progress:  # fmt: skip
            metrics = run_episodes(envs, agent, episodes, seed, progress)
    except SkipCell as reason:
        return {**cell, "skipped": str(reason), "metadata": metadata(None)}
    finally:
        for env in envs:
            env.close()
    # build_seconds: loading the model, or training (or loading) a classical baseline.
    return {**cell, **metrics, "metadata": {**metadata(envs[0]), "batch_size": batch, "build_seconds": build_seconds}}


def metadata(env: gym.Env | None) -> dict[str, Any]:
    """Where and when a cell ran, and the env's corpus version (``env.unwrapped.corpus_version``) if any."""
    data: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "reflect_gym": reflect_gym.__version__,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    corpus_version = getattr(env.unwrapped, "corpus_version", None) if env is not None else None
    if corpus_version is not None:
        data["corpus_version"] = corpus_version
    return data


def load_results(path: Path) -> list[dict[str, Any]]:
    """The cells stored in ``path``; an absent file has none.

    Raises:
        ValueError: If the file is not a results file of this format.
    """
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or data.get("format") != RESULTS_FORMAT:
        raise ValueError(f"{path} is not a results file of format {RESULTS_FORMAT}; pass another --out.")
    return list(data["results"])


def save_results(path: Path, cells: list[dict[str, Any]]) -> None:
    """Write the results file (atomically)."""
    atomic_write(path, json.dumps({"format": RESULTS_FORMAT, "results": cells}, indent=2) + "\n")


def run_matrix(
    env_ids: Sequence[str],
    specs: Sequence[str],
    episodes: int,
    seed: int,
    out: Path,
    options: dict[str, Any],
) -> list[dict[str, Any]]:
    """Evaluate every (env, agent) cell, saving ``out`` after each; return all cells of ``out``.

    A cell already in ``out`` with the same settings is kept, not rerun; one with other settings, a
    skipped one or a failed one is run again and replaced. A cell that raises is recorded with its error
    (and its traceback printed) and the matrix goes on.
    """
    cells = load_results(out)
    todo = [(env_id, spec) for env_id in env_ids for spec in specs]
    with tqdm(total=len(todo), desc="cells", unit="cell", disable=not options["progress"]) as bar:
        for env_id, spec in todo:
            settings = cell_settings(env_id, spec, episodes, seed, options)
            index = next((i for i, c in enumerate(cells) if (c["env"], c["agent"]) == (env_id, spec)), None)
            stored = cells[index] if index is not None else None
            if stored is not None and is_result(stored) and all(stored.get(k) == v for k, v in settings.items()):
                bar.update(1)
                continue
            try:
                cell = evaluate_cell(env_id, spec, episodes, seed, options, position=1)
            except Exception as error:  # one broken cell must not stop a long matrix; the next run retries it
                traceback.print_exc()
                reason = f"{type(error).__name__}: {error}"
                cell = {"env": env_id, "agent": spec, **settings, "error": reason, "metadata": metadata(None)}
            if not is_result(cell):
                tqdm.write(f"{env_id} x {spec}: {not_run_reason(cell)}")
            if index is None:
                cells.append(cell)
            else:
                cells[index] = cell
            save_results(out, cells)
            bar.update(1)
    return cells


def is_result(cell: dict[str, Any]) -> bool:
    """Whether ``cell`` holds measurements (not a skipped or failed cell)."""
    return "skipped" not in cell and "error" not in cell


def not_run_reason(cell: dict[str, Any]) -> str:
    """Why a skipped or failed cell has no measurements."""
    return f"skipped: {cell['skipped']}" if "skipped" in cell else f"failed: {cell['error']}"


def format_table(cells: Sequence[dict[str, Any]]) -> str:
    """The cells as Markdown: a success-rate grid (envs x agents), then one row per cell."""
    env_ids = list(dict.fromkeys(c["env"] for c in cells))
    specs = list(dict.fromkeys(c["agent"] for c in cells))
    by_key = {(c["env"], c["agent"]): c for c in cells}

    def short(env_id: str) -> str:
        return env_id.removeprefix(NAMESPACE)

    lines = ["| env | " + " | ".join(f"`{s}`" for s in specs) + " |", "|---|" + "---:|" * len(specs)]
    for env_id in env_ids:
        row = []
        for spec in specs:
            cell = by_key.get((env_id, spec))
            if cell is None:
                row.append("")
            else:
                row.append(f"{cell['success_rate']:.2f}" if is_result(cell) else not_run_reason(cell).split(":")[0])
        lines.append(f"| {short(env_id)} | " + " | ".join(row) + " |")
    lines += [
        "",
        "| env | agent | episodes | success (95% CI) | mean return | mean steps | invalid rate | decisions/s |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    not_run = []
    for cell in cells:
        if not is_result(cell):
            not_run.append(f"- {short(cell['env'])} x `{cell['agent']}`: {not_run_reason(cell)}")
            continue
        low, high = cell["success_ci95"]
        lines.append(
            f"| {short(cell['env'])} | `{cell['agent']}` | {cell['episodes']} | "
            f"{cell['success_rate']:.2f} [{low:.2f}, {high:.2f}] | {cell['mean_return']:.3f} | "
            f"{cell['mean_steps']:.2f} | {cell['invalid_action_rate']:.3f} | {cell['decisions_per_second']:,.1f} |"
        )
    if not_run:
        lines += ["", "Not run:", *not_run]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", nargs="+", default=["all"], help="env ids, or 'all' (default)")
    parser.add_argument(
        "--agent", nargs="+", required=True, help="agent specs: random, expert, lm:MODEL[+reflect], ..."
    )
    parser.add_argument("--episodes", type=int, default=100, help="episodes per cell (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="results JSON; existing cells are kept")
    parser.add_argument("--table", type=Path, help="also write the Markdown table of every cell in --out here")
    parser.add_argument("--batch-size", type=int, default=8, help="episodes run at once by LM agents (default 8)")
    parser.add_argument("--device", default=None, help="torch device of LM agents (default: cuda if available)")
    parser.add_argument(
        "--autocast", action="store_true", help="bf16 autocast for LM agents' forward passes (faster on CPU)"
    )
    parser.add_argument(
        "--decider",
        choices=("labels", "scoring"),
        default=None,
        help="how LM agents pick: labels (one pass over all labels) or scoring (each action's text after the "
        "prompt); default: a checkpoint's own, labels for a base model",
    )
    parser.add_argument(
        "--repeat-penalty",
        type=float,
        default=None,
        help="nats off an LM agent's score of an action for each time its episode already took it "
        "(PolicyConfig.repeat_penalty); default: a checkpoint's own, 0 for a base model",
    )
    parser.add_argument(
        "--max-new-tokens", type=int, default=100, help="token limit of a reflection (default 100, the paper's)"
    )
    parser.add_argument(
        "--env-kwargs",
        nargs="+",
        default=[],
        metavar="PATTERN:KEY=VALUE",
        help="gym.make arguments for the envs matching PATTERN, e.g. 'BabyAI-*:horizon=64'",
    )
    parser.add_argument("--torch-threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument(
        "--sb3-timesteps",
        type=int,
        default=DEFAULT_TIMESTEPS,
        help=f"training budget of sb3:* agents ({DEFAULT_TIMESTEPS})",
    )
    parser.add_argument("--sb3-seed", type=int, default=0, help="training seed of sb3:* agents")
    parser.add_argument("--openai-base-url", default=None, help="chat endpoint root (default $OPENAI_BASE_URL)")
    parser.add_argument("--openai-timeout", type=float, default=60.0, help="seconds per chat request")
    parser.add_argument("--openai-retries", type=int, default=3, help="retries of a failed chat request")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bars")
    args = parser.parse_args(argv)
    if args.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {args.episodes}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.repeat_penalty is not None and not 0 <= args.repeat_penalty < float("inf"):
        parser.error(f"--repeat-penalty must be a finite number >= 0, got {args.repeat_penalty}")
    if args.max_new_tokens < 1:
        parser.error(f"--max-new-tokens must be at least 1, got {args.max_new_tokens}")
    try:
        args.env_kwargs = parse_env_kwargs(args.env_kwargs)
    except ValueError as error:
        parser.error(str(error))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        env_ids = resolve_env_ids(args.env)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if args.torch_threads is not None:
        import torch

        # On a shared CPU, fewer threads than cores avoids torch's threads waiting on each other.
        torch.set_num_threads(args.torch_threads)
    options = {
        "env_kwargs": args.env_kwargs,
        "lm": {
            "batch_size": args.batch_size,
            "device": args.device,
            "autocast": args.autocast,
            "decider": args.decider,
            "repeat_penalty": args.repeat_penalty,
            "max_new_tokens": args.max_new_tokens,
        },
        "sb3_timesteps": args.sb3_timesteps,
        "sb3_seed": args.sb3_seed,
        "progress": args.progress,
        "openai": {"base_url": args.openai_base_url, "timeout": args.openai_timeout, "retries": args.openai_retries},
    }
    cells = run_matrix(env_ids, args.agent, args.episodes, args.seed, args.out, options)
    table = format_table(cells)
    if args.table is not None:
        atomic_write(args.table, table)
    print(table, end="")
    wanted = {(env_id, spec) for env_id in env_ids for spec in args.agent}
    return 1 if any("error" in c for c in cells if (c["env"], c["agent"]) in wanted) else 0


if __name__ == "__main__":
    sys.exit(main())
