"""The evaluation harness: agents x envs, one cell each, saved as a results file and a Markdown table.

    reflect-rl evaluate --env DangerousTaxi-v0 --agent expert --episodes 100 --seed 0 --out results.json
    reflect-rl evaluate --env all --agent random expert --episodes 50 --out results.json
    reflect-rl evaluate --env DangerousTaxi-v0 FileQA-Depth1-v0 --agent lm:smollm2 lm:smollm2+reflect \\
        --episodes 30 --out results.json --table results.md

Episode ``i`` of a cell runs on a fresh reset with seed ``seed + i``, so every agent meets the same episodes. A
cell plays its agent through the one episode runner (:func:`reflect_agent.agents.play`) on a vector env of
``batch_size`` envs (the agent's: 1 for random, expert and sb3 agents; ``--batch-size`` for LM agents;
``--concurrency`` for chat agents, which send that many requests at once, see
:class:`~reflect_agent.agents.OpenAIChatAgent`), and reports its :class:`~reflect_agent.evaluation.EvalResult`:
success rate with its 95% Wilson interval, mean return, mean steps, the share of steps that were invalid actions,
and decisions per second (decisions over the time spent in the agent).

Results are written atomically after each cell; a rerun skips the cells already in ``--out`` with the same
settings, so an interrupted matrix resumes where it stopped. Envs whose optional extra is missing, and classical
baselines on envs without a structured state, are recorded as skipped with the reason; a cell that raises is
recorded as failed with its error, the others still run, and the exit status is 1. A chat server that errors,
hangs, answers something that is not a completion or redirects fails its cell after each request's bounded
retries. Env ids may omit the ``ReflectRL/`` namespace; ``all`` means every registered ReflectRL id.

Every episode of a cell is also written to the traces file next to the results, ``<out stem>.traces.jsonl``
(``results.json``: ``results.traces.jsonl``; :func:`traces_path`), one JSON object per line
(:func:`episode_trace`)::

    {"env_id": str, "agent": str, "seed": int, "success": bool, "return": float, "steps": int,
     "terminated": bool, "truncated": bool,
     "turns": [{"state": str, "actions": [str], "reflection": str | null, "reply": str | null,
                "action": int, "action_text": str | null, "reward": float, "invalid": bool}, ...]}

``agent`` is the cell's agent spec; a turn's ``state`` is the state text the agent saw (``info["state"]``, the
observation without its numbered ``actions``), ``reflection`` the reflector's analysis (LM agents with
``+reflect``), ``reply`` a chat agent's raw reply (so a cell of unreadable replies can be read after the run),
``action`` the chosen index (-1 where the reply named no action) and ``action_text`` its text. The file is
rewritten atomically after each cell, before the results: a rerun cell's traces replace its old ones, a skipped
or failed cell has none, and a resumed matrix keeps the traces of the cells it does not rerun (cells stored
before traces were written have none). ``--no-traces`` writes no traces; an existing traces file then only
loses the traces of the cells rerun, so that it never holds traces of another run of a cell than the results.

``--env-kwargs PATTERN:KEY=VALUE`` passes ``gym.make`` arguments to the envs whose id (namespace left out) matches
the shell-style pattern, for instance ``'BabyAI-*:horizon=64'`` or ``ALFWorld-v0:max_actions=52`` (an LM policy
has 52 single-token labels); values are read as JSON when they parse, else as strings. A cell's env arguments are
part of its settings.

``--decider scoring`` makes LM agents score each admissible action's text as a continuation of the prompt
instead of reading one label per action; a checkpoint keeps the decider it was trained with unless this is given.
``--repeat-penalty X`` takes X nats off an LM agent's score of an action for each time its episode already took
it (``PolicyConfig.repeat_penalty``).
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import os
import platform
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
from gymnasium.error import DependencyNotInstalled
from tqdm.auto import tqdm

import reflect_gym
from reflect_agent import trace_page
from reflect_agent.agents import DEFAULT_CONCURRENCY, Agent, make_agent, play
from reflect_agent.baselines import DEFAULT_TIMESTEPS, NoStructuredStateError, make_baseline_agent
from reflect_agent.episodes import Episode, make_envs
from reflect_agent.evaluation import EvalResult
from reflect_agent.openai_api import api_root
from reflect_gym.files import atomic_write

NAMESPACE = "ReflectRL/"
RESULTS_FORMAT = 1


@dataclass
class EvaluateArgs:
    """Evaluate agents on ReflectRL envs: one cell, or a matrix of envs x agents with a Markdown table.

    Attributes:
        agent: Agent specs: random, expert, lm:MODEL[+reflect], lm:CHECKPOINT_DIR, openai:MODEL, sb3:ppo, sb3:dqn,
            tabular:qlearning.
        out: The results JSON; the cells already there with the same settings are kept.
        env: Env ids (the ReflectRL/ namespace may be left out), or 'all'.
        episodes: Episodes per cell.
        seed: Seed of the first episode; episode i runs on seed + i.
        table: Also write the Markdown table of every cell in --out here.
        batch_size: Episodes run at once by LM agents (one env each).
        device: Torch device of LM agents (None: cuda if available).
        autocast: bf16 autocast for LM agents' forward passes (faster where the device runs bf16 in hardware, a
            GPU or an AVX-512/AMX CPU; slower elsewhere).
        decider: How LM agents pick: labels (one pass over all labels) or scoring (each action's text after the
            prompt); None: a checkpoint's own, labels for a base model.
        repeat_penalty: Nats off an LM agent's score of an action for each time its episode already took it; None:
            a checkpoint's own, 0 for a base model.
        max_new_tokens: Token limit of a reflection (100, the paper's).
        env_kwargs: gym.make arguments for the envs matching PATTERN, as PATTERN:KEY=VALUE, e.g.
            'BabyAI-*:horizon=64'.
        torch_threads: Torch CPU threads (None: torch's choice).
        sb3_timesteps: Training budget (env steps) of the classical baselines, sb3:* and tabular:*.
        sb3_seed: Training seed of the classical baselines.
        openai_base_url: Chat endpoint root (None: $OPENAI_BASE_URL).
        openai_timeout: Seconds a chat request may take in all.
        openai_retries: Retries of a failed chat request.
        concurrency: Chat requests of openai: agents in flight at once, one per env played at once (4 by
            default: llama.cpp's server opens 4 slots, and a server that answers one at a time keeps 3 waiting
            within each request's deadline). Results do not depend on it.
        traces: Write every episode to <out stem>.traces.jsonl next to --out (--no-traces: none).
        progress: Show progress bars.
    """

    agent: tuple[str, ...]
    out: Path
    env: tuple[str, ...] = ("all",)
    episodes: int = 100
    seed: int = 0
    table: Path | None = None
    batch_size: int = 8
    device: str | None = None
    autocast: bool = False
    decider: Literal["labels", "scoring"] | None = None
    repeat_penalty: float | None = None
    max_new_tokens: int = 100
    env_kwargs: tuple[str, ...] = ()
    torch_threads: int | None = None
    sb3_timesteps: int = DEFAULT_TIMESTEPS
    sb3_seed: int = 0
    openai_base_url: str | None = None
    openai_timeout: float = 60.0
    openai_retries: int = 3
    concurrency: int = DEFAULT_CONCURRENCY
    traces: bool = True
    progress: bool = True
    #: ``(pattern, key, value)`` of each ``env_kwargs`` item, parsed once.
    patterns: list[tuple[str, str, Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if not self.agent:
            raise ValueError("--agent needs at least one agent spec, e.g. --agent random expert.")
        if self.episodes < 1:
            raise ValueError(f"--episodes must be at least 1, got {self.episodes}.")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be at least 1, got {self.batch_size}.")
        if self.repeat_penalty is not None and not 0 <= self.repeat_penalty < float("inf"):
            raise ValueError(f"--repeat-penalty must be a finite number >= 0, got {self.repeat_penalty}.")
        if self.max_new_tokens < 1:
            raise ValueError(f"--max-new-tokens must be at least 1, got {self.max_new_tokens}.")
        if self.concurrency < 1:
            raise ValueError(f"--concurrency must be at least 1 (1: one request at a time), got {self.concurrency}.")
        self.patterns = parse_env_kwargs(self.env_kwargs)

    def env_kwargs_for(self, env_id: str) -> dict[str, Any]:
        """The ``gym.make`` arguments of ``env_id`` (later patterns override earlier ones)."""
        name = env_id.removeprefix(NAMESPACE)
        return {key: value for pattern, key, value in self.patterns if fnmatch.fnmatchcase(name, pattern)}

    def lm_options(self) -> dict[str, Any]:
        """The options of :func:`reflect_agent.agents.make_agent` for ``lm:`` specs."""
        return {
            "batch_size": self.batch_size,
            "device": self.device,
            "autocast": self.autocast,
            "decider": self.decider,
            "repeat_penalty": self.repeat_penalty,
            "max_new_tokens": self.max_new_tokens,
        }

    def openai_options(self) -> dict[str, Any]:
        """The options of :func:`reflect_agent.agents.make_agent` for ``openai:`` specs."""
        return {
            "base_url": self.openai_base_url,
            "timeout": self.openai_timeout,
            "retries": self.openai_retries,
            "concurrency": self.concurrency,
        }


class SkipCell(Exception):
    """A cell that cannot run here (a missing extra, no structured state); the message says why."""


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


def make_cell_envs(env_id: str, num_envs: int, kwargs: dict[str, Any]) -> gym.vector.VectorEnv:
    """The sync vector env of a cell; a missing optional dependency raises :class:`SkipCell`."""
    try:
        return make_envs(env_id, num_envs, env_kwargs=kwargs)
    except (DependencyNotInstalled, ModuleNotFoundError) as error:
        raise SkipCell(f"{env_id} needs an optional dependency: {error}") from error


def build_agent(spec: str, env_id: str, args: EvaluateArgs) -> Agent:
    """The agent of ``spec`` for ``env_id``.

    Raises:
        SkipCell: For a classical baseline on an env without a structured state.
    """
    kind = spec.partition(":")[0]
    if kind in ("sb3", "tabular"):
        try:
            return make_baseline_agent(
                spec,
                env_id,
                env_kwargs=args.env_kwargs_for(env_id),
                timesteps=args.sb3_timesteps,
                seed=args.sb3_seed,
                progress=args.progress,
            )
        except NoStructuredStateError as error:
            raise SkipCell(str(error)) from error
    if kind == "lm":
        return make_agent(spec, **args.lm_options())
    if kind == "openai":
        return make_agent(spec, **args.openai_options())
    return make_agent(spec)


def cell_settings(env_id: str, spec: str, args: EvaluateArgs) -> dict[str, Any]:
    """The settings that decide a cell's result; a stored cell is reused only when they match.

    How many envs play at once (``--batch-size``, ``--concurrency``) is not one: the episodes do not depend on it.
    """
    settings: dict[str, Any] = {"episodes": args.episodes, "seed": args.seed, "env_kwargs": args.env_kwargs_for(env_id)}
    if spec.startswith("lm:"):
        settings.update(autocast=args.autocast, decider=args.decider)
        if args.repeat_penalty is not None:
            settings.update(repeat_penalty=args.repeat_penalty)
        if spec.endswith("+reflect"):
            settings.update(max_new_tokens=args.max_new_tokens)
    if spec.startswith(("sb3:", "tabular:")):
        settings.update(sb3_timesteps=args.sb3_timesteps, sb3_seed=args.sb3_seed)
    if spec.startswith("openai:"):  # another server may serve another model under the same name
        url = args.openai_base_url or os.environ.get("OPENAI_BASE_URL")
        settings.update(base_url=api_root(url) if url else None)
    return settings


def cell_metrics(result: EvalResult) -> dict[str, Any]:
    """A cell's measurements (the keys of the results file) from its :class:`EvalResult`."""
    return {
        "success_rate": result.success_rate,
        "success_ci95": [result.ci_low, result.ci_high],
        "mean_return": result.mean_return,
        "mean_steps": result.mean_length,
        "invalid_action_rate": result.invalid_action_rate,
        "decisions_per_second": result.decisions_per_second,
        "successes": result.successes,
        "steps": result.decisions,
        "decisions": result.decisions,
        "wall_seconds": result.seconds,
    }


def evaluate_cell(
    env_id: str, spec: str, args: EvaluateArgs, position: int = 0
) -> tuple[dict[str, Any], list[Episode]]:
    """Evaluate agent ``spec`` on ``env_id``: a result cell and its episodes, or a skipped cell with its reason
    and no episodes."""
    cell: dict[str, Any] = {"env": env_id, "agent": spec, **cell_settings(env_id, spec, args)}
    seeds = range(args.seed, args.seed + args.episodes)
    envs = None
    try:
        # The env first, with one sub-env, so a cell whose env cannot be built is skipped before any model loads.
        envs = make_cell_envs(env_id, 1, args.env_kwargs_for(env_id))
        tic = time.perf_counter()
        agent = build_agent(spec, env_id, args)
        build_seconds = time.perf_counter() - tic
        batch = max(1, min(agent.batch_size, args.episodes))
        if batch > 1:
            envs.close()
            envs = make_cell_envs(env_id, batch, args.env_kwargs_for(env_id))
        timings: dict[str, float] = {}
        with tqdm(total=args.episodes, desc=f"{env_id.removeprefix(NAMESPACE)} | {spec}", unit="ep",
                  disable=not args.progress, leave=False, position=position) as progress:  # fmt: skip
            start = time.perf_counter()
            episodes = play(agent, envs, seeds, timings=timings, on_episode=lambda _: progress.update(1))
            result = EvalResult.of(env_id, episodes, time.perf_counter() - start, timings["agent_s"])
        where = metadata(envs)
    except SkipCell as reason:
        return {**cell, "skipped": str(reason), "metadata": metadata(None)}, []
    finally:
        if envs is not None:
            envs.close()
    # build_seconds: loading the model, or training (or loading) a classical baseline.
    where.update(batch_size=batch, build_seconds=build_seconds)
    return {**cell, **cell_metrics(result), "metadata": where}, episodes


def metadata(envs: gym.vector.VectorEnv | None) -> dict[str, Any]:
    """Where and when a cell ran, and the env's corpus version (``corpus_version`` of the unwrapped env) if any."""
    data: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "reflect_gym": reflect_gym.__version__,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if isinstance(envs, gym.vector.SyncVectorEnv):
        corpus_version = getattr(envs.envs[0].unwrapped, "corpus_version", None)
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


def traces_path(out: Path) -> Path:
    """The traces file of the results file ``out``: beside it, ``<stem>.traces.jsonl``."""
    return out.with_name(f"{out.stem}.traces.jsonl")


def episode_trace(episode: Episode, agent: str) -> dict[str, Any]:
    """The trace of ``episode`` played by the agent of spec ``agent`` (see the module docstring).

    Raises:
        ValueError: The episode was not recorded by :func:`reflect_agent.episodes.play_episodes` (it has no
            per-step replies and invalid flags).
    """
    steps = len(episode)
    if len(episode.replies) != steps or len(episode.invalid) != steps:
        raise ValueError(
            f"Episode of seed {episode.seed} has {len(episode.replies)} replies and {len(episode.invalid)} invalid "
            f"flags for {steps} steps; trace episodes played by reflect_agent.episodes.play_episodes."
        )
    turns = [
        {
            "state": state,
            "actions": list(actions),
            "reflection": reflection,
            "reply": reply,
            "action": int(action),
            "action_text": actions[action] if 0 <= action < len(actions) else None,
            "reward": float(reward),
            "invalid": bool(invalid),
        }
        for state, actions, reflection, reply, action, reward, invalid in zip(
            episode.states,
            episode.actions,
            episode.reflections,
            episode.replies,
            episode.chosen,
            episode.rewards,
            episode.invalid,
            strict=True,
        )
    ]
    return {
        "env_id": episode.env_id,
        "agent": agent,
        "seed": episode.seed,
        "success": episode.success,
        "return": episode.total_reward,
        "steps": steps,
        "terminated": episode.terminated,
        "truncated": not episode.terminated,
        "turns": turns,
    }


def load_traces(path: Path) -> dict[tuple[str, str], list[str]]:
    """The trace lines stored in ``path`` by cell, ``(env_id, agent)``, in file order; an absent file has none.

    Raises:
        ValueError: ``path`` is not a traces file (:func:`reflect_agent.trace_page.load_traces` names the line).
    """
    if not path.exists():
        return {}
    try:
        episodes = trace_page.load_traces(path)
    except ValueError as error:  # not JSON, not text, or not the trace format
        raise ValueError(
            f"{path} is not an episode traces file of the harness ({error}); move the file away or pass another --out."
        ) from error
    traces: dict[tuple[str, str], list[str]] = {}
    for record in episodes:
        traces.setdefault((record["env_id"], record["agent"]), []).append(json.dumps(record))
    return traces


def save_traces(path: Path, traces: dict[tuple[str, str], list[str]]) -> None:
    """Write the trace lines of every cell to ``path`` (atomically)."""
    text = "".join(line + "\n" for lines in traces.values() for line in lines)
    # load_traces read every line of an existing file as a trace: it is the harness's own, even when now empty.
    atomic_write(path, text, overwrite=True)


def run_matrix(env_ids: Sequence[str], args: EvaluateArgs) -> list[dict[str, Any]]:
    """Evaluate every (env, agent) cell, saving ``args.out`` (and its traces) after each; return all cells of
    ``args.out``.

    A cell already in ``args.out`` with the same settings is kept, not rerun; one with other settings, a skipped
    one or a failed one is run again and replaced. A cell that raises is recorded with its error (and its
    traceback printed) and the matrix goes on. The traces file (:func:`traces_path`) is written before the
    results, so a cell in the results has the traces of the same run (or none).
    """
    cells = load_results(args.out)
    trace_file = traces_path(args.out)
    traces = load_traces(trace_file)
    todo = [(env_id, spec) for env_id in env_ids for spec in args.agent]
    with tqdm(total=len(todo), desc="cells", unit="cell", disable=not args.progress) as bar:  # pragma: no mutate
        for env_id, spec in todo:
            settings = cell_settings(env_id, spec, args)
            index = next((i for i, c in enumerate(cells) if (c["env"], c["agent"]) == (env_id, spec)), None)
            stored = cells[index] if index is not None else None
            if stored is not None and is_result(stored) and all(stored.get(k) == v for k, v in settings.items()):
                bar.update(1)  # pragma: no mutate
                continue
            episodes: list[Episode] = []
            try:
                cell, episodes = evaluate_cell(
                    env_id,
                    spec,
                    args,
                    position=1,  # pragma: no mutate (the row of its progress bar)
                )
            except Exception as error:  # one broken cell must not stop a long matrix; the next run retries it
                traceback.print_exc()
                reason = f"{type(error).__name__}: {error}"
                cell = {"env": env_id, "agent": spec, **settings, "error": reason, "metadata": metadata(None)}
            if not is_result(cell):
                tqdm.write(f"{env_id} x {spec}: {not_run_reason(cell)}")
            traced = (env_id, spec) in traces
            if args.traces and is_result(cell):
                traces[env_id, spec] = [json.dumps(episode_trace(episode, spec)) for episode in episodes]
            elif traced:  # the old traces belong to a run of the cell that the results no longer hold
                del traces[env_id, spec]
            if args.traces or traced:
                save_traces(trace_file, traces)
            if index is None:
                cells.append(cell)
            else:
                cells[index] = cell
            save_results(args.out, cells)
            bar.update(1)  # pragma: no mutate
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
