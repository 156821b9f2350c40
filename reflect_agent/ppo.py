"""Reflect-RL's online stage: the policy learns by PPO (or PG) next to a frozen reflector.

One iteration, top to bottom (:meth:`ReflectRLTrainer.iteration`):

1. Rollout: each env of the vector env plays one episode with the policy, reading the frozen
   reflector's analysis (:func:`reflect_agent.rollout.collect_rollout`), under ``torch.no_grad()``. With
   ``group_size`` G, G envs play from each seed (a group rollout, :mod:`reflect_agent.groups`).
2. Replay: successful episodes join the replay buffer; a few stored ones are re-scored under the
   current policy and added to the batch (the paper's one extra batch per iteration).
3. Returns and advantages: Monte-Carlo returns without discount (the paper) or GAE with the value
   head, the value of the last observation bootstrapped on truncation, never on termination; or, critic-free,
   GRPO, RLOO or GiGPO within the groups. The start policy's log-probabilities give the KL to it.
4. Update: epochs of shuffled minibatches, gradients accumulated over micro-batches: PPO's clipped
   ratio on log-probabilities (or REINFORCE), value loss (not critic-free), entropy bonus, optional KL penalty;
   approximate KL monitored.
5. Curriculum, metrics (console, JSON lines, wandb, PNG curve) and, every N iterations, a checkpoint
   (adapters, value head, optimizer, random states, curriculum, replay, start weights) written atomically.

Command line (``--resume`` continues the same run)::

    python -m reflect_agent.ppo cpu --env-id ReflectRL/DangerousTaxi-Dropoff-v0 --iterations 10
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reflect_agent.advantages import Advantages, gae, monte_carlo_returns, next_state_values, normalize
from reflect_agent.checkpoint import (
    CheckpointError,
    CheckpointManager,
    atomic_write_json,
    read_file,
    rng_state,
    seed_everything,
    set_rng_state,
)
from reflect_agent.config import (
    EVAL_SEED_OFFSET,
    RLConfig,
    TrainConfig,
    check_processes,
    cpu_preset,
    paper_preset,
    qwen_preset,
)
from reflect_agent.curriculum import Curriculum
from reflect_agent.distributed import Processes, check_precision, sharded_engine
from reflect_agent.episodes import make_envs
from reflect_agent.evaluation import EvalResult, evaluate
from reflect_agent.groups import group_advantages, group_seeds
from reflect_agent.metrics import MetricsLogger, peak_memory_mb
from reflect_agent.models import resolve_device
from reflect_agent.policy import LMPolicy
from reflect_agent.reflector import Reflector
from reflect_agent.replay import SuccessReplay
from reflect_agent.rollout import Rollout, collect_rollout, gather_rollouts, score_episodes
from reflect_gym.files import ForeignPathError, make_folder

_TRAINER_STATE = "trainer_state.json"
_OPTIMIZER = "optimizer.pt"
_RNG = "rng.pt"
#: The random states of process ``rank`` >= 1 of a data-parallel run (``rng.pt`` holds the main process's).
_PROCESS_RNG = "rng_process_{rank}.pt"
_REFLECTION_CACHE = "reflection_cache.json"
_REFLECTOR_DRAFTS = "reflector_drafts.json"
_POLICY = "policy"
_START_WEIGHTS = "start_policy.pt"
#: The files a run writes in its folder besides its checkpoints.
_RUN_FILES = ("metrics.jsonl", "learning_curve.png", "final_eval.json")


def _load_tensors(path: Path) -> Any:
    return torch.load(path, weights_only=True)


class RunFolderInUseError(FileExistsError):
    """The run's folder holds an earlier run, and neither resume nor overwrite was asked for."""


#: Settings a resumed run may change (a name also covers the keys inside it): how long it trains, how it
#: evaluates, reports and checkpoints, and the device.
RESUMABLE_CHANGES = frozenset(
    {
        "iterations",
        "resume",
        "overwrite",
        "checkpoint_every",
        "keep_checkpoints",
        "eval_every",
        "eval_episodes",
        "eval_env_kwargs",
        "wandb_project",
        "progress",
        "threads",
        "policy.device",
        "reflector.fast_decode",
        "reflector.draft_tokens",
        "reflector.batch_size",
        "reflector.pack_weights",
        "reflector.cache_entries",
        "reflector.cache_bytes",
        "reflector.merge_adapter",
        "rl.keep_frozen_activations",
    }
)


def changed_settings(saved: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """``(dotted key, saved value, current value)`` for every setting that differs between two nested config dicts."""
    changes = []
    for key in sorted(saved.keys() | current.keys()):
        old, new = saved.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            changes += changed_settings(old, new, f"{prefix}{key}.")
        elif old != new:
            changes.append((f"{prefix}{key}", old, new))
    return changes


class DivergenceError(FloatingPointError):
    """An update diverged: a loss, the gradient norm, the KL or a weight is not finite or beyond
    ``RLConfig.divergence_limit``."""


class NonFiniteLossError(DivergenceError):
    """A loss or gradient became NaN or infinite during an update."""


def _check_bounded(name: str, value: float, config: RLConfig, where: str) -> None:
    """Raise :class:`DivergenceError` when ``value`` is not finite or beyond ``config.divergence_limit``."""
    if math.isfinite(value) and abs(value) <= config.divergence_limit:
        return
    error = NonFiniteLossError if not math.isfinite(value) else DivergenceError
    raise error(
        f"The update diverged: {name} is {value:.4g} ({where}), beyond the limit {config.divergence_limit:g}. Lower "
        f"the learning rate (learning_rate, now {config.learning_rate:g}), or raise divergence_limit if such values "
        "are expected; the checkpoints written before this iteration are intact."
    )


#: The loss statistics :func:`update_policy` averages over the decisions it trains on.
_LOSS_STATISTICS = (
    "losses/pg_loss",
    "losses/v_loss",
    "losses/kl_loss",
    "losses/entropy",
    "losses/approx_kl",
    "losses/clipfrac",
)


def compute_advantages(rollout: Rollout, config: RLConfig) -> Advantages:
    """Per-decision advantages and returns (each ``(B,)``) of ``rollout`` under ``config``, normalized as configured.

    The group estimators (:mod:`reflect_agent.groups`) also say which decisions to keep and how the groups look;
    Monte-Carlo and GAE keep every decision.
    """
    if config.critic_free:
        return group_advantages(rollout, config)
    values = rollout.grid(rollout.values)  # (T, N)
    final_values = rollout.final_values if config.bootstrap_truncation else torch.zeros_like(rollout.final_values)
    next_values = next_state_values(values, rollout.dones, final_values)  # (T, N)
    if config.advantage == "gae":
        advantages, returns = gae(
            rollout.rewards,
            values,
            next_values,
            rollout.dones,
            rollout.terminations,
            gamma=config.gamma,
            gae_lambda=config.gae_lambda,
        )
    else:
        returns = monte_carlo_returns(
            rollout.rewards, rollout.dones, rollout.terminations, next_values, gamma=config.gamma
        )  # (T, N)
        advantages = returns - values if config.value_baseline else returns
    b_advantages = rollout.flat(advantages)  # (B,)
    if config.normalize_advantages:
        b_advantages = normalize(b_advantages)
    return Advantages(b_advantages, rollout.flat(returns), torch.ones(len(rollout), dtype=torch.bool), {})


@torch.no_grad()
def reference_logprobs(
    policy: LMPolicy,
    reference: dict[str, torch.Tensor],
    rollout: Rollout,
    *,
    chunk: int,
    rows: torch.Tensor | None = None,
) -> torch.Tensor:
    """``(R,)`` log-probability of each taken action under ``policy`` with the ``reference`` weights swapped in.

    ``reference`` maps parameter names to tensors (the trainable weights RL started from); the policy's own
    weights are untouched (:func:`torch.func.functional_call`). ``rows`` picks the decisions (default: all ``B``).
    """
    logprobs = [torch.zeros(0)]
    for part in (torch.arange(len(rollout)) if rows is None else rows).split(chunk):
        scores, _ = torch.func.functional_call(policy, reference, (rollout.batch[part],))  # (b, A)
        logprobs.append(scores.float().cpu().gather(1, rollout.actions[part, None]).squeeze(1))  # (b,)
    return torch.cat(logprobs)


def update_policy(
    policy: LMPolicy,
    optimizer: torch.optim.Optimizer,
    rollout: Rollout,
    config: RLConfig,
    generator: torch.Generator,
    *,
    start_logprobs: torch.Tensor | None = None,
    context: str = "",
    processes: Processes | None = None,
) -> dict[str, float]:
    """Run the PPO (or PG) update on ``rollout``; return the namespaced loss and group metrics.

    Args:
        start_logprobs: ``(B,)`` log-probabilities of the taken actions under the policy RL started from, for
            ``config.kl_coef``'s penalty (required when it is positive).
        processes: Data-parallel processes that share the work (default: this process alone). Every process
            passes the same global ``rollout`` and ``generator`` state, so all draw the same minibatches; each
            computes the gradient of its contiguous share of every minibatch, the shares' gradients are summed
            over the processes before clipping, and every replica takes the same optimizer step: the update of
            one process on the whole batch, up to float rounding. The losses are averaged over all decisions.

    Raises:
        DivergenceError: A loss, the gradient norm, the approximate KL or a trainable weight is not finite
            (:class:`NonFiniteLossError`, with the values around it) or beyond ``config.divergence_limit``.
    """
    if config.kl_coef and start_logprobs is None:
        raise ValueError("kl_coef > 0 needs the start policy's log-probabilities (start_logprobs).")
    estimate = compute_advantages(rollout, config)
    b_advantages, b_returns = estimate.advantages, estimate.returns  # (B,), (B,)
    b_logprobs, b_values, b_actions = rollout.logprobs, rollout.values, rollout.actions
    kept = estimate.keep.nonzero().squeeze(1)  # (K,) the decisions that enter the update
    processes = processes or Processes()
    low, high = config.clip_range
    epochs = 1 if config.algorithm == "pg" else config.update_epochs
    # This process's sums of the loss statistics (and its decisions); ``overall`` adds them up over the processes.
    totals: dict[str, float] = dict.fromkeys(_LOSS_STATISTICS, 0.0)
    counts = 0
    overall, overall_counts = totals, counts
    grad_norms = 0.0
    # The first minibatch's approximate KL, before any step: how far the update's log-probabilities of the taken
    # actions are from the rollout's (batch composition under bf16, a mismatch between the two passes).
    first_kl, first_count = 0.0, 0
    stop_early = False
    for epoch in range(epochs if len(kept) else 0):
        order = kept[torch.randperm(len(kept), generator=generator)]
        for first in range(0, len(order), config.minibatch_size):
            minibatch = order[first : first + config.minibatch_size]
            optimizer.zero_grad()
            for micro in processes.shard_rows(minibatch).split(config.micro_batch_size):
                if not len(micro):  # this process's share of a short last minibatch is empty
                    continue
                _, new_logprob, entropy, new_value = policy.get_action_and_value(rollout.batch[micro], b_actions[micro])
                new_logprob, entropy, new_value = new_logprob.cpu(), entropy.cpu(), new_value.cpu()
                mb_advantages = b_advantages[micro]
                log_ratio = new_logprob - b_logprobs[micro]
                ratio = log_ratio.exp()
                if config.algorithm == "pg":
                    pg_loss = -(mb_advantages * new_logprob).mean()
                else:
                    pg_loss = torch.max(-mb_advantages * ratio, -mb_advantages * ratio.clamp(low, high)).mean()
                if config.critic_free:
                    v_loss = torch.zeros(())
                elif config.clip_value:
                    clipped = b_values[micro] + (new_value - b_values[micro]).clamp(-config.clip_coef, config.clip_coef)
                    v_loss = (
                        0.5 * torch.max((new_value - b_returns[micro]) ** 2, (clipped - b_returns[micro]) ** 2).mean()
                    )
                else:
                    v_loss = 0.5 * ((new_value - b_returns[micro]) ** 2).mean()
                if config.kl_coef:
                    start_log_ratio = start_logprobs[micro] - new_logprob
                    kl_loss = (start_log_ratio.exp() - start_log_ratio - 1).mean()  # k3: >= 0, unbiased for KL
                else:
                    kl_loss = torch.zeros(())
                entropy_loss = entropy.mean()
                loss = pg_loss - config.ent_coef * entropy_loss + config.vf_coef * v_loss + config.kl_coef * kl_loss
                if not torch.isfinite(loss):
                    raise NonFiniteLossError(
                        f"Non-finite loss {loss.item()} ({context}epoch {epoch}, decisions {micro.tolist()}): "
                        f"pg_loss={pg_loss.item()}, v_loss={v_loss.item()}, entropy={entropy_loss.item()}, "
                        f"max |log-ratio|={log_ratio.abs().max().item()}, "
                        f"max |advantage|={mb_advantages.abs().max().item()}. Lower the learning rate, or turn "
                        "autocast off."
                    )
                _check_bounded("the loss", loss.item(), config, f"{context}epoch {epoch}")
                (loss * len(micro) / len(minibatch)).backward()
                with torch.no_grad():
                    stats = {
                        "losses/pg_loss": pg_loss.item(),
                        "losses/v_loss": v_loss.item(),
                        "losses/kl_loss": kl_loss.item(),
                        "losses/entropy": entropy_loss.item(),
                        "losses/approx_kl": ((ratio - 1) - log_ratio).mean().item(),
                        "losses/clipfrac": ((ratio < low) | (ratio > high)).float().mean().item(),
                    }
                for key, value in stats.items():
                    totals[key] += value * len(micro)
                counts += len(micro)
                if epoch == 0 and first == 0:
                    first_kl += stats["losses/approx_kl"] * len(micro)
                    first_count += len(micro)
            processes.reduce_gradients(policy.trainable_parameters(), average=False)
            grad_norm = torch.nn.utils.clip_grad_norm_(policy.trainable_parameters(), config.max_grad_norm)
            _check_bounded("the gradient norm", grad_norm.item(), config, f"{context}epoch {epoch}")
            optimizer.step()
            grad_norms += grad_norm.item() * len(minibatch)
        if processes.count > 1:  # every process decides on the statistics of all decisions, so all stop together
            *sums, overall_counts = processes.sum([*totals.values(), counts])
            overall = dict(zip(totals, sums, strict=True))
        else:
            overall_counts = counts
        approx_kl = overall["losses/approx_kl"] / overall_counts
        _check_bounded("the approximate KL", approx_kl, config, f"{context}epoch {epoch}")
        if config.target_kl is not None and approx_kl > config.target_kl:
            stop_early = True
            break
    first_kl, first_count = processes.sum([first_kl, first_count])
    if overall_counts:
        overall = overall | {"losses/grad_norm": grad_norms}
    metrics = {key: value / overall_counts for key, value in overall.items() if overall_counts} | estimate.metrics
    if first_count:
        metrics["losses/approx_kl_first_minibatch"] = first_kl / first_count
    if not config.critic_free:
        returns_variance = b_returns.var()
        metrics["losses/explained_var"] = (
            float("nan") if returns_variance == 0 else (1 - (b_returns - b_values).var() / returns_variance).item()
        )
    with torch.no_grad():
        largest = max((p.abs().max().item() for p in policy.trainable_parameters() if p.numel()), default=0.0)
    _check_bounded("the largest trainable weight", largest, config, f"{context}after the update")
    metrics["losses/max_weight"] = largest
    metrics["losses/early_stop"] = float(stop_early)
    metrics["losses/updated_decisions"] = float(len(kept))
    return metrics


class ReflectRLTrainer:
    """Online RL of an LM policy next to a frozen reflector, on any ReflectRL env.

    Under ``accelerate launch`` the trainer is data-parallel (:mod:`reflect_agent.distributed`): every process holds
    a replica of the policy and its own reflector, draws the same episode seeds from the run's generator, plays its
    contiguous share of them (whole groups), and gathers the rollouts, so advantages, group statistics, success
    rates, the curriculum and replay see the global batch, which is a one-process run's. The update sums the
    processes' gradients (:func:`update_policy`), so the replicas stay equal. Only the main process writes
    checkpoints, metrics and plots; the checkpoint holds every process's random states, and a resume needs as many
    processes as the run had.

    Args:
        config: The run.
        policy: The policy to train (e.g. after SFT); ``None`` builds one from ``config.policy``.
        reflector: The frozen reflector; ``None`` builds one from ``config.reflector`` when
            ``config.use_reflector``.

    Raises:
        ValueError: A launch that cannot share ``config`` (see :func:`reflect_agent.config.check_processes`), a
            DeepSpeed or FSDP launch config, or a mixed precision other than ``config.policy.autocast``.
    """

    def __init__(self, config: TrainConfig, policy: LMPolicy | None = None, reflector: Reflector | None = None):
        self.config = config
        if config.threads is not None:
            torch.set_num_threads(config.threads)
        engine = sharded_engine()
        if engine is not None:
            raise ValueError(
                f"The RL trainer runs data-parallel replicas and does not shard the model: launch it with a DDP config "
                f"(configs/accelerate/ddp_bf16.yaml or multi_node.yaml), not {engine}. {engine} configs are for "
                "reflect-rl sft of models that do not fit one GPU; for RL, serve the reflector (ReflectorConfig."
                "server_url) to free the GPU for the policy."
            )
        check_precision(config.policy.autocast, "--policy.autocast")
        cpu = (policy.device if policy is not None else resolve_device(config.policy.device)).type == "cpu"
        self.processes = Processes.start(cpu=cpu)
        check_processes(config.num_envs, config.group_size, self.processes.count)
        self.rng = seed_everything(config.seed, self.processes.rank)
        run_dir = Path(config.output_dir) / config.name
        if self.processes.is_main:
            make_folder(run_dir)
        self.processes.wait()  # the others find it made
        self.run_dir = make_folder(run_dir)
        self.policy = policy if policy is not None else LMPolicy.from_config(config.policy)
        if reflector is None and config.use_reflector:
            reflector = Reflector.from_config(config.reflector, policy=self.policy)
        self.reflector = reflector if config.use_reflector else None
        if self.processes.rank and isinstance(getattr(self.reflector, "rng", None), np.random.Generator):
            # Its reflect_prob draws, like the actions, are each process's own.
            self.reflector.rng = np.random.default_rng([self.reflector.config.seed, self.processes.rank])
        self.optimizer = self._make_optimizer()
        # The trainable weights RL starts from, for the KL to the start policy (a resume restores them).
        self.start_weights: dict[str, torch.Tensor] | None = None
        if config.rl.kl_coef or config.rl.track_kl:
            self.start_weights = {
                name: p.detach().clone()
                for name, p in self.policy.named_parameters()
                if p.requires_grad and not name.startswith("value_head.")
            }
        self.curriculum = Curriculum(config.curriculum, config.env_id)
        self.replay = SuccessReplay(config.replay_capacity)
        self.checkpoints = CheckpointManager(self.run_dir / "checkpoints", keep=config.keep_checkpoints)
        self.iteration_count = 0
        self._envs = None
        self._envs_id: str | None = None
        if config.resume:
            self._resume()
        else:
            self._claim_run_folder()

    def _make_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.policy.trainable_parameters(),
            lr=self.config.rl.learning_rate,
            weight_decay=self.config.rl.weight_decay,
        )

    # ----------------------------------------------------------------------------------------------
    # Training.

    def envs(self) -> Any:
        """The vector env of the current curriculum stage (rebuilt when the stage changes)."""
        env_id = self.curriculum.env_id
        if self._envs is None or self._envs_id != env_id:
            self.close()
            self._envs = make_envs(
                env_id,
                self.config.num_envs // self.processes.count,
                vectorization=self.config.vectorization,
                env_kwargs=self.config.make_kwargs(),
            )
            self._envs_id = env_id
        return self._envs

    def iteration(self) -> dict[str, Any]:
        """One rollout and one update; return the iteration's metrics."""
        config = self.config
        started = time.perf_counter()
        env_id = self.curriculum.env_id
        processes = self.processes
        # 1. Rollout: one episode per env, group_size envs per seed, seeds drawn from the run's generator (restored
        # on resume). Every process draws the same seeds, plays its share (whole groups) and gathers the others'.
        seeds = group_seeds(self.rng, config.num_envs, config.group_size, EVAL_SEED_OFFSET)
        keep_frozen = config.rl.keep_frozen_activations and processes.count == 1
        self.policy.eval()
        cache = getattr(self.reflector, "cache", None)
        cache_before = cache.snapshot() if cache is not None else None
        empty_before = getattr(self.reflector, "empty_count", 0)
        decode = getattr(self.reflector, "decode_stats", None)
        decode_before = decode.snapshot() if decode is not None else None
        rollout = collect_rollout(
            self.envs(),
            self.policy,
            self.reflector,
            processes.shard(seeds),
            bootstrap_truncation=config.rl.bootstrap_truncation and not config.rl.critic_free,
            env_id=env_id,
            keep_frozen=keep_frozen,
        )
        rollout = gather_rollouts(processes, rollout)
        fresh, reused = rollout.episodes, rollout.reused
        rollout_seconds = processes.max(time.perf_counter() - started)

        # 2. Replay: remember successes, add a few stored ones re-scored under the current policy (each process
        # scores its share).
        replayed = self.replay.sample(config.replay_episodes, self.rng)
        for episode in fresh:
            self.replay.add(episode)
        if replayed:
            share = processes.shard(replayed)
            scored = (
                score_episodes(self.policy, share, chunk=config.rl.micro_batch_size, keep_frozen=keep_frozen)
                if share
                else None
            )
            rollout = Rollout.cat([rollout, gather_rollouts(processes, scored)])

        # 3-4. Advantages and update (with the start policy's log-probabilities for the KL).
        update_started = time.perf_counter()
        start_logprobs, divergence = None, {}
        if self.start_weights is not None:
            rows = processes.shard_rows(torch.arange(len(rollout)))
            share = reference_logprobs(
                self.policy, self.start_weights, rollout, chunk=config.rl.micro_batch_size, rows=rows
            )
            start_logprobs = torch.cat(processes.gather(share))  # (B,)
            log_ratio = start_logprobs - rollout.logprobs
            divergence = {"kl/start_policy": (log_ratio.exp() - log_ratio - 1).mean().item()}
        generator = torch.Generator().manual_seed(int(self.rng.integers(2**62)))
        losses = update_policy(
            self.policy,
            self.optimizer,
            rollout,
            config.rl,
            generator,
            start_logprobs=start_logprobs,
            context=f"iteration {self.iteration_count + 1}, env {env_id}, ",
            processes=processes,
        )
        update_seconds = time.perf_counter() - update_started
        self.iteration_count += 1

        # 5. Curriculum and metrics.
        success_rate = float(np.mean([e.success for e in fresh]))
        stage = self.curriculum.stage
        moved = self.curriculum.update(success_rate)
        decisions = sum(len(e) for e in fresh)
        seconds = time.perf_counter() - started
        return {
            "env/success_rate": success_rate,
            "charts/episodes": len(fresh),
            "charts/episodic_return": float(np.mean([sum(e.rewards) for e in fresh])),
            "charts/episode_length": float(np.mean([len(e) for e in fresh])),
            "charts/learning_rate": self.optimizer.param_groups[0]["lr"],
            "curriculum/stage": stage,
            "curriculum/moved": float(moved),
            "replay/size": len(self.replay),
            "replay/episodes": len(replayed),
            **losses,
            **divergence,
            "perf/decisions": decisions,
            "perf/decisions_per_s": decisions / rollout_seconds,
            "perf/policy_prompts_reused": reused / max(decisions, 1),
            "perf/rollout_s": rollout_seconds,
            "perf/update_s": update_seconds,
            "perf/iteration_s": seconds,
            **{f"perf/{key}": value for key, value in rollout.timings.items()},
            **(cache.metrics(cache_before) if cache is not None else {}),
            **(decode.metrics(decode_before) if decode is not None else {}),
            **({"perf/reflect_empty": self.reflector.empty_count - empty_before} if self.reflector is not None else {}),
            "perf/peak_memory_mb": processes.max(peak_memory_mb()),
            "perf/processes": processes.count,
        }

    def train(self) -> list[dict[str, Any]]:
        """Run the remaining iterations; log, evaluate and checkpoint as configured. Return the logged rows (every
        process logs the same; only the main process writes them)."""
        config = self.config
        logger = MetricsLogger(
            self.run_dir / "metrics.jsonl",
            total=config.iterations,
            start=self.iteration_count,
            progress=config.progress,
            wandb_project=config.wandb_project,
            run_name=config.name,
            config=config.to_dict(),
            write=self.processes.is_main,
        )
        try:
            while self.iteration_count < config.iterations:
                metrics = self.iteration()
                if config.eval_every and self.iteration_count % config.eval_every == 0:
                    result = self.evaluate(config.eval_episodes)
                    metrics |= {"eval/success_rate": result.success_rate, "eval/episodic_return": result.mean_return}
                logger.log(self.iteration_count, metrics)
                if metrics["curriculum/moved"]:
                    logger.write(f"iteration {self.iteration_count}: curriculum moves to {self.curriculum.env_id}")
                last = self.iteration_count == config.iterations
                if last or (config.checkpoint_every and self.iteration_count % config.checkpoint_every == 0):
                    self.save_checkpoint()
            if self.processes.is_main:
                logger.plot(self.run_dir / "learning_curve.png")
        finally:
            logger.close()
            self.close()
        return logger.rows

    def evaluate(self, episodes: int, *, env_id: str | None = None) -> EvalResult:
        """Greedy success on held-out seeds (and ``eval_env_kwargs``, e.g. FileQA's test split). Every process plays
        its share of the seeds, and every process gets the merged result."""
        seeds = self.processes.shard(range(EVAL_SEED_OFFSET, EVAL_SEED_OFFSET + episodes))
        result = None
        if seeds or self.processes.count == 1:
            result = evaluate(
                self.policy,
                self.reflector,
                env_id or self.curriculum.stages[-1],
                seeds,
                num_envs=self.config.num_envs // self.processes.count,
                vectorization=self.config.vectorization,
                env_kwargs=self.config.make_kwargs(evaluation=True),
            )
        if self.processes.count == 1:
            return result
        return EvalResult.merge([share for share in self.processes.gather(result) if share is not None])

    def close(self) -> None:
        """Close the vector env."""
        if self._envs is not None:
            self._envs.close()
            self._envs = None
            self._envs_id = None

    # ----------------------------------------------------------------------------------------------
    # Checkpoints.

    def save_checkpoint(self) -> Path:
        """Write adapters, value head, optimizer, random states, curriculum and replay; return the folder.

        Under data parallelism every process calls it; the main process writes, with every process's random states
        (the replicas are otherwise equal).
        """
        states = rng_state(self.rng)
        if isinstance(getattr(self.reflector, "rng", None), np.random.Generator):
            states["reflector"] = self.reflector.rng.bit_generator.state  # its reflect_prob draws
        every_states = self.processes.gather(states)

        def write(folder: Path) -> None:
            self.policy.save(folder / _POLICY)
            torch.save(self.optimizer.state_dict(), folder / _OPTIMIZER)
            if self.start_weights is not None:
                torch.save(self.start_weights, folder / _START_WEIGHTS)
            for rank, process_states in enumerate(every_states):
                torch.save(process_states, folder / (_RNG if rank == 0 else _PROCESS_RNG.format(rank=rank)))
            if getattr(self.reflector, "cache", None) is not None:  # a resumed run keeps the reflections it knows
                atomic_write_json(folder / _REFLECTION_CACHE, self.reflector.cache.state_dict())
            if getattr(self.reflector, "drafts", None) is not None:  # and the guesses its decoding passes check
                atomic_write_json(folder / _REFLECTOR_DRAFTS, self.reflector.drafts.state_dict())
            atomic_write_json(
                folder / _TRAINER_STATE,
                {
                    "iteration": self.iteration_count,
                    "processes": self.processes.count,
                    "curriculum": self.curriculum.state_dict(),
                    "replay": self.replay.state_dict(),
                    "config": self.config.to_dict(),
                },
            )

        if not self.processes.is_main:
            return self.checkpoints.folder(self.iteration_count)
        return self.checkpoints.save(self.iteration_count, write)

    def _claim_run_folder(self) -> None:
        """Refuse a run folder holding an earlier run, or, with ``overwrite``, delete what that run left."""
        earlier = [folder.name for folder in self.checkpoints.checkpoints()]
        earlier += [name for name in _RUN_FILES if (self.run_dir / name).exists()]
        if not earlier:
            return
        if not self.config.overwrite:
            raise RunFolderInUseError(
                f"{self.run_dir} holds an earlier run ({', '.join(earlier)}). Pass --resume to continue it, "
                "--overwrite to delete it and start over, or another --name (or --output-dir)."
            )
        if not self.processes.is_main:
            return
        shutil.rmtree(self.checkpoints.root)
        for name in _RUN_FILES:
            (self.run_dir / name).unlink(missing_ok=True)

    def _check_resumable(self, folder: Path, saved: dict[str, Any]) -> None:
        """Refuse to continue a checkpoint trained with other settings than those in :data:`RESUMABLE_CHANGES`."""
        current = json.loads(json.dumps(self.config.to_dict()))  # tuples become lists, as in the saved copy
        changes = [
            f"{key}: {old!r} -> {new!r}"
            for key, old, new in changed_settings(saved, current)
            if not any(key == name or key.startswith(f"{name}.") for name in RESUMABLE_CHANGES)
        ]
        if changes:
            raise ValueError(
                f"Cannot resume {folder}: it was trained with other settings ({'; '.join(changes)}). Run again with "
                f"the same settings to continue it, or give the new run another name (or output_dir)."
            )

    def _read_checkpoint(self, folder: Path) -> dict[str, Any]:
        """Everything :meth:`save_checkpoint` wrote to ``folder``, read and checked before any of it is used, so
        that a damaged file (see :data:`reflect_agent.checkpoint.DAMAGE_ERRORS`) leaves the trainer as it was."""
        state = read_file(folder / _TRAINER_STATE, lambda path: json.loads(path.read_text()))
        saved = {
            "state": state,
            "iteration": int(state["iteration"]),
            "policy": read_file(folder / _POLICY, lambda path: LMPolicy.load(path, device=self.config.policy.device)),
            "optimizer": read_file(folder / _OPTIMIZER, _load_tensors),
            # Every process's random states, the main process's first.
            "rng": [
                read_file(folder / (_RNG if rank == 0 else _PROCESS_RNG.format(rank=rank)), _load_tensors)
                for rank in range(int(state.get("processes", 1)))
            ],
        }
        # A state of other shapes is refused here, not half-applied.
        optimizer = torch.optim.AdamW(saved["policy"].trainable_parameters())
        read_file(folder / _OPTIMIZER, lambda path: optimizer.load_state_dict(saved["optimizer"]))
        if self.start_weights is not None:
            saved["start_weights"] = read_file(folder / _START_WEIGHTS, _load_tensors)
        if getattr(self.reflector, "cache", None) is not None and (folder / _REFLECTION_CACHE).is_file():
            saved["cache"] = read_file(folder / _REFLECTION_CACHE, lambda path: json.loads(path.read_text()))
        if getattr(self.reflector, "drafts", None) is not None and (folder / _REFLECTOR_DRAFTS).is_file():
            saved["drafts"] = read_file(folder / _REFLECTOR_DRAFTS, lambda path: json.loads(path.read_text()))
        return saved

    def load_checkpoint(self, folder: str | Path) -> None:
        """Restore the state saved by :meth:`save_checkpoint` (the policy is rebuilt from its folder)."""
        self._restore(self._read_checkpoint(Path(folder)))

    def _resume(self) -> None:
        """Continue from the newest intact checkpoint (a damaged one is passed over with a warning).

        The main process picks the checkpoint; the others read the one it picked.
        """
        found = self.checkpoints.restore(self._read_checkpoint) if self.processes.is_main else None
        name = self.processes.broadcast(found[0].name if found is not None else None)
        if name is None:
            return
        folder = self.checkpoints.root / name
        saved = found[1] if found is not None else self._read_checkpoint(folder)
        processes = len(saved["rng"])
        if processes != self.processes.count:
            raise ValueError(
                f"Cannot resume {folder}: it was trained by {processes} process(es) and this launch has "
                f"{self.processes.count}. Each process continues its own random states, so launch {processes} "
                f"(accelerate launch --num_processes {processes}, or python -m without a launcher for 1) to continue "
                "it, or give the new run another name (or output_dir)."
            )
        self._check_resumable(folder, saved["state"]["config"])
        self._restore(saved)

    def _restore(self, saved: dict[str, Any]) -> None:
        state = saved["state"]
        policy = saved["policy"]
        policy.train(self.policy.training)
        if self.reflector is not None and self.reflector.model is self.policy.model:
            self.reflector = Reflector.from_config(self.config.reflector, policy=policy)
        self.policy = policy
        self.optimizer = self._make_optimizer()
        self.optimizer.load_state_dict(saved["optimizer"])
        if self.start_weights is not None:
            self.start_weights = saved["start_weights"]
        self.curriculum.load_state_dict(state["curriculum"])
        self.replay.load_state_dict(state["replay"])
        self.iteration_count = saved["iteration"]
        states = saved["rng"][self.processes.rank]
        set_rng_state(states, self.rng)
        if "reflector" in states and isinstance(getattr(self.reflector, "rng", None), np.random.Generator):
            self.reflector.rng.bit_generator.state = states["reflector"]
        if "cache" in saved:
            # Another reflector's cache (a retrained adapter, other limits) is refused by its identity.
            self.reflector.cache.load_state_dict(saved["cache"])
        if "drafts" in saved:
            # Guesses are checked, so any reflector may take them; other n or k start a new table.
            self.reflector.drafts.load_state_dict(saved["drafts"])


def main(config: TrainConfig) -> None:
    """Train with ``config`` and print a held-out evaluation at the end."""
    trainer = ReflectRLTrainer(config)
    trainer.train()
    result = trainer.evaluate(config.eval_episodes)
    if trainer.processes.is_main:
        print(f"{result.env_id}: {result.row()}")
        atomic_write_json(trainer.run_dir / "final_eval.json", dataclasses.asdict(result))


if __name__ == "__main__":
    import tyro

    presets = {
        "cpu": ("SmolLM2 on a CPU (reflect_agent.config.cpu_preset)", cpu_preset()),
        "paper": ("GPT-2 XL as in the paper (reflect_agent.config.paper_preset)", paper_preset()),
        "qwen0.5b": ("Qwen2.5-0.5B-Instruct on a GPU (reflect_agent.config.qwen_preset)", qwen_preset("0.5b")),
        "qwen1.5b": ("Qwen2.5-1.5B-Instruct on a GPU (reflect_agent.config.qwen_preset)", qwen_preset("1.5b")),
    }
    try:
        main(tyro.extras.overridable_config_cli(presets))
    except (RunFolderInUseError, ForeignPathError, CheckpointError, DivergenceError) as error:
        raise SystemExit(f"reflect_agent.ppo: {error}") from None  # exit status 1, the message without a traceback
