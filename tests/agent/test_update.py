"""The PPO/PG update (reflect_agent.ppo.update_policy) against its loss written out decision by decision.

One SGD step with learning rate ``LR`` moves each trainable weight by ``-LR`` times the gradient of the loss, so
comparing the weights after ``update_policy`` with those after a step on the hand-written loss checks every term,
coefficient, clip and batch split of the update, and its metrics are checked against the same loss's parts.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os

import pytest
import torch

from reflect_agent.config import RLConfig
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.ppo import (
    DivergenceError,
    NonFiniteLossError,
    ReflectRLTrainer,
    compute_advantages,
    reference_logprobs,
    update_policy,
)
from reflect_agent.rollout import Rollout, score_episodes
from tests.agent.conftest import perturb_lora
from tests.agent.toy_envs import stored_episode, tiny_config

LR = 0.05


def take_step(policy: LMPolicy, weights: list[torch.Tensor]) -> None:
    """Set ``policy``'s trainable weights to ``weights`` (from :func:`sgd_step`)."""
    with torch.no_grad():
        for param, weight in zip(policy.trainable_parameters(), weights, strict=True):
            param.copy_(weight)


def assert_same_steps(trained: LMPolicy, expected, start: LMPolicy) -> None:
    """The weights moved from ``start`` as ``expected`` (weights) says, within 2% of each move: several steps in
    float32 round differently in the last bits (micro-batches, batch shapes) and that compounds, while a step too
    many, too few or of another size is off by a whole step."""
    for after, want, before in zip(trained.trainable_parameters(), expected, start.trainable_parameters(), strict=True):
        moved, wanted = (after - before).detach(), (want - before).detach()
        torch.testing.assert_close(moved, wanted, rtol=0.02, atol=0.02 * wanted.abs().max().item() + 1e-7)


ACTIONS = ("go north", "open the door", "wait")


@pytest.fixture(scope="module")
def acted() -> tuple[LMPolicy, Rollout, torch.Tensor]:
    """A policy, a rollout of two seed groups scored by it, and start-policy log-probabilities.

    The rollout's log-probabilities and values are those of an older policy (the current ones plus noise), so
    ratios spread over both sides of the clip range and the value clip matters.
    """
    torch.manual_seed(int(os.environ.get("UPDATE_TEST_SEED", "0")))  # LoRA's A matrices start random
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    perturb_lora(policy, seed=3)
    with torch.no_grad():  # a value head that tells states apart (a fresh one outputs zero everywhere)
        policy.value_head.weight.normal_(0.0, 0.5, generator=torch.Generator().manual_seed(3))
    episodes = [
        stored_episode(1, ["A room.", "A hall.", "A door."], [-0.1, -0.1, 1.0], chosen=[0, 1, 2], actions=ACTIONS),
        stored_episode(1, ["A room.", "A pit."], [-0.1, -1.0], chosen=[1, 0], actions=ACTIONS),
        stored_episode(1, ["A room."], [0.2], chosen=[2], actions=ACTIONS, terminated=False),
        stored_episode(2, ["A yard.", "A gate."], [0.0, 0.5], chosen=[2, 2], actions=ACTIONS),
        stored_episode(2, ["A yard.", "A wall."], [0.0, -0.5], chosen=[0, 1], actions=ACTIONS),
        stored_episode(2, ["A yard."], [0.0], chosen=[1], actions=ACTIONS, terminated=False),
    ]
    rollout = score_episodes(policy, episodes, chunk=4)
    noise = torch.Generator().manual_seed(0)
    logprobs = rollout.logprobs + (torch.rand(len(rollout), generator=noise) - 0.5) * 0.9
    values = rollout.values + torch.randn(len(rollout), generator=noise) * 1.5
    final_values = rollout.final_values.clone()
    final_values[0, 2], final_values[0, 5] = 0.7, -0.4  # the truncated episodes' last observations
    rollout = dataclasses.replace(rollout, logprobs=logprobs, values=values, final_values=final_values)
    start_logprobs = rollout.logprobs + (torch.rand(len(rollout), generator=noise) - 0.5) * 0.6
    return policy, rollout, start_logprobs


def hand_written_loss(policy, rollout, config, start_logprobs, minibatch=None):
    """The update's loss on a minibatch (default: the whole batch), term by term and decision by decision; and its
    parts. Advantages come from the whole rollout."""
    estimate = compute_advantages(rollout, config)
    rows = [row for row in (range(len(rollout)) if minibatch is None else minibatch) if estimate.keep[row]]
    _, new_logprobs, entropies, new_values = policy.get_action_and_value(
        rollout.batch[torch.tensor(rows)], rollout.actions[rows]
    )
    low, high = 1 - config.clip_coef, 1 + (config.clip_coef_high or config.clip_coef)
    parts = {name: 0.0 for name in ("pg", "v", "kl", "entropy", "approx_kl", "clipfrac")}
    for i, row in enumerate(rows):
        advantage, target = estimate.advantages[row], estimate.returns[row]
        new_logprob, new_value = new_logprobs[i], new_values[i]
        ratio = torch.exp(new_logprob - rollout.logprobs[row])
        if config.algorithm == "pg":
            parts["pg"] = parts["pg"] - advantage * new_logprob
        else:
            parts["pg"] = parts["pg"] + torch.max(-advantage * ratio, -advantage * min(max(ratio, low), high))
        if not config.critic_free:
            old_value = rollout.values[row]
            error = (new_value - target) ** 2
            if config.clip_value:
                step = min(max(new_value - old_value, -config.clip_coef), config.clip_coef)
                error = torch.max(error, (old_value + step - target) ** 2)
            parts["v"] = parts["v"] + 0.5 * error
        if config.kl_coef:
            x = start_logprobs[row] - new_logprob
            parts["kl"] = parts["kl"] + torch.exp(x) - x - 1
        parts["entropy"] = parts["entropy"] + entropies[i]
        parts["approx_kl"] += ratio.item() - 1 - math.log(ratio.item())
        parts["clipfrac"] += float(ratio < low or ratio > high)
    parts = {name: value / len(rows) for name, value in parts.items()}
    loss = parts["pg"] - config.ent_coef * parts["entropy"] + config.vf_coef * parts["v"] + config.kl_coef * parts["kl"]
    return loss, parts, rows


def sgd_step(policy, loss, max_grad_norm):
    """The weights after one SGD step on ``loss`` with the gradient clipped to ``max_grad_norm``; and its norm."""
    params = list(policy.trainable_parameters())
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]
    norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item()
    scale = min(1.0, max_grad_norm / (norm + 1e-6))
    return [(p - LR * scale * g).detach() for p, g in zip(params, grads, strict=True)], norm


def number(x: torch.Tensor | float) -> float:
    return float(x.detach()) if torch.is_tensor(x) else x


CONFIGS = {
    "ppo, Monte-Carlo, value clip": RLConfig(clip_value=True, ent_coef=0.05, vf_coef=0.7, update_epochs=1),
    "ppo, GAE, clip-higher, raw advantages": RLConfig(
        advantage="gae", gamma=0.9, gae_lambda=0.8, clip_coef_high=0.3, normalize_advantages=False, update_epochs=1
    ),
    "pg, no bootstrap, no baseline": RLConfig(
        algorithm="pg", bootstrap_truncation=False, value_baseline=False, update_epochs=3
    ),
    "grpo with a KL penalty": RLConfig(advantage="grpo", kl_coef=0.3, clip_coef=0.1, update_epochs=1),
    "gigpo, unscaled, every group kept": RLConfig(
        advantage="gigpo", scale_by_std=False, drop_uniform_groups=False, kl_coef=0.2, update_epochs=1
    ),
}


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("clip_norm", [1e9, 0.05])
def test_one_update_is_an_sgd_step_on_the_hand_written_loss(acted, name, clip_norm):
    policy, rollout, start_logprobs = acted
    config = dataclasses.replace(CONFIGS[name], max_grad_norm=clip_norm, minibatch_size=64, micro_batch_size=3)
    loss, parts, rows = hand_written_loss(policy, rollout, config, start_logprobs)
    expected, norm = sgd_step(policy, loss, clip_norm)

    trained = copy.deepcopy(policy)
    optimizer = torch.optim.SGD(trained.trainable_parameters(), lr=LR)
    metrics = update_policy(
        trained, optimizer, rollout, config, torch.Generator().manual_seed(0), start_logprobs=start_logprobs
    )
    for after, want in zip(trained.trainable_parameters(), expected, strict=True):
        torch.testing.assert_close(after, want, rtol=1e-4, atol=1e-6)

    approx = {"rel": 1e-4, "abs": 1e-6}
    assert metrics["losses/pg_loss"] == pytest.approx(number(parts["pg"]), **approx)
    assert metrics["losses/v_loss"] == pytest.approx(number(parts["v"]), **approx)
    assert metrics["losses/kl_loss"] == pytest.approx(number(parts["kl"]), **approx)
    assert metrics["losses/entropy"] == pytest.approx(number(parts["entropy"]), **approx)
    assert metrics["losses/approx_kl"] == pytest.approx(parts["approx_kl"], **approx)
    assert metrics["losses/clipfrac"] == pytest.approx(parts["clipfrac"], **approx)
    assert metrics["losses/grad_norm"] == pytest.approx(norm, rel=1e-4)
    assert metrics["losses/updated_decisions"] == len(rows) and metrics["losses/early_stop"] == 0.0
    estimate = compute_advantages(rollout, config)
    assert {k: v for k, v in metrics.items() if k.startswith("groups/")} == estimate.metrics
    if config.critic_free:
        assert "losses/explained_var" not in metrics
    else:
        returns, values = estimate.returns, rollout.values
        explained = 1 - (returns - values).var() / returns.var()
        assert metrics["losses/explained_var"] == pytest.approx(explained.item(), rel=1e-5)


def test_the_ratios_spread_across_the_clip_range(acted):
    policy, rollout, start_logprobs = acted
    _, parts, _ = hand_written_loss(policy, rollout, RLConfig(), start_logprobs)
    assert 0.2 < parts["clipfrac"] < 0.8  # else the clip tests above would not tell a clip from none


def test_each_epoch_steps_again_and_target_kl_stops_after_the_first(acted):
    policy, rollout, start_logprobs = acted
    # No clip (its boundary makes the loss's gradient jump, so float noise across steps could move a decision
    # across it); the clip itself is tested on one step above.
    config = RLConfig(update_epochs=2, minibatch_size=64, micro_batch_size=64, max_grad_norm=1.0, clip_coef=100.0)
    stepped = copy.deepcopy(policy)
    for _ in range(2):
        loss, _, _ = hand_written_loss(stepped, rollout, config, start_logprobs)
        take_step(stepped, sgd_step(stepped, loss, 1.0)[0])

    def trained(config: RLConfig) -> tuple[LMPolicy, dict]:
        copied = copy.deepcopy(policy)
        optimizer = torch.optim.SGD(copied.trainable_parameters(), lr=LR)
        return copied, update_policy(copied, optimizer, rollout, config, torch.Generator().manual_seed(0))

    twice, metrics = trained(config)
    assert metrics["losses/early_stop"] == 0.0
    assert_same_steps(twice, list(stepped.trainable_parameters()), policy)

    # Below target_kl nothing stops: the epoch's mean approx_kl is what is compared.
    _, parts, _ = hand_written_loss(policy, rollout, config, start_logprobs)
    _, metrics = trained(dataclasses.replace(config, update_epochs=1, target_kl=parts["approx_kl"] * 1.5))
    assert metrics["losses/early_stop"] == 0.0

    once, metrics = trained(dataclasses.replace(config, target_kl=1e-9))
    loss, parts, _ = hand_written_loss(policy, rollout, config, start_logprobs)
    assert metrics["losses/early_stop"] == 1.0 and parts["approx_kl"] > 1e-9
    assert_same_steps(once, sgd_step(policy, loss, 1.0)[0], policy)


def test_minibatches_take_one_step_each_over_a_shuffled_order(acted):
    policy, rollout, start_logprobs = acted
    config = RLConfig(update_epochs=1, minibatch_size=4, micro_batch_size=2, max_grad_norm=1.0, clip_coef=100.0)
    generator = torch.Generator().manual_seed(5)
    order = torch.randperm(len(rollout), generator=torch.Generator().manual_seed(5))
    stepped, norms = copy.deepcopy(policy), []
    for first in range(0, len(order), 4):
        minibatch = order[first : first + 4].tolist()
        loss, _, _ = hand_written_loss(stepped, rollout, config, None, minibatch=minibatch)
        weights, norm = sgd_step(stepped, loss, 1.0)
        norms.append(norm * len(minibatch))
        take_step(stepped, weights)
    trained = copy.deepcopy(policy)
    metrics = update_policy(trained, torch.optim.SGD(trained.trainable_parameters(), lr=LR), rollout, config, generator)
    assert metrics["losses/grad_norm"] == pytest.approx(sum(norms) / len(rollout), rel=1e-4)  # weighted by size
    assert_same_steps(trained, list(stepped.trainable_parameters()), policy)


def test_a_kl_penalty_needs_the_start_policy_and_a_non_finite_loss_names_its_parts(acted):
    policy, rollout, _ = acted
    optimizer = torch.optim.SGD(policy.trainable_parameters(), lr=LR)
    with pytest.raises(
        ValueError, match=r"^kl_coef > 0 needs the start policy's log-probabilities \(start_logprobs\)\.$"
    ):
        update_policy(copy.deepcopy(policy), optimizer, rollout, RLConfig(kl_coef=0.1), torch.Generator())
    broken = dataclasses.replace(rollout, logprobs=torch.full_like(rollout.logprobs, -float("inf")))
    with pytest.raises(NonFiniteLossError, match=r"Non-finite loss .*\(iteration 3, epoch 0, decisions \["):
        update_policy(copy.deepcopy(policy), optimizer, broken, RLConfig(), torch.Generator(), context="iteration 3, ")
    with pytest.raises(NonFiniteLossError, match=r"^Non-finite loss \S+ \(epoch 0, .* or turn autocast off\.$"):
        update_policy(copy.deepcopy(policy), optimizer, broken, RLConfig(), torch.Generator())


def test_reference_logprobs_score_the_actions_with_the_start_weights_swapped_in(acted):
    policy, rollout, _ = acted
    start = copy.deepcopy(policy)
    perturb_lora(start, seed=11)
    weights = {name: p.detach().clone() for name, p in start.named_parameters() if p.requires_grad}
    before = {name: p.detach().clone() for name, p in policy.named_parameters()}
    got = reference_logprobs(policy, weights, rollout, chunk=3)
    torch.testing.assert_close(got, score_episodes(start, rollout.episodes, chunk=16).logprobs, rtol=1e-5, atol=1e-5)
    for name, p in policy.named_parameters():
        assert torch.equal(p, before[name]), f"{name} changed"


@pytest.fixture(scope="module")
def small(acted) -> Rollout:
    """One episode truncated after rewards 1, 2 (values 0.5, 0.25; its last observation worth 4), one terminated
    after reward 3 (value 1)."""
    policy = acted[0]
    episodes = [
        stored_episode(1, ["A room.", "A hall."], [1.0, 2.0], chosen=[0, 1], actions=ACTIONS, terminated=False),
        stored_episode(2, ["A yard."], [3.0], chosen=[2], actions=ACTIONS),
    ]
    rollout = score_episodes(policy, episodes, chunk=4)
    final_values = torch.zeros(2, 2)
    final_values[1, 0] = 4.0
    return dataclasses.replace(rollout, values=torch.tensor([0.5, 0.25, 1.0]), final_values=final_values)


@pytest.mark.parametrize(
    ("settings", "advantages", "returns"),
    [
        ({}, [2.5, 3.75, 2.0], [3.0, 4.0, 3.0]),  # returns 1 + 0.5 * (2 + 0.5 * 4), 2 + 0.5 * 4, 3
        ({"bootstrap_truncation": False}, [1.5, 1.75, 2.0], [2.0, 2.0, 3.0]),
        ({"value_baseline": False}, [3.0, 4.0, 3.0], [3.0, 4.0, 3.0]),
        # deltas 1 + 0.5 * 0.25 - 0.5, 2 + 0.5 * 4 - 0.25, 3 - 1; A_0 = 0.625 + 0.5 * 0.5 * 3.75
        ({"advantage": "gae"}, [1.5625, 3.75, 2.0], [2.0625, 4.0, 3.0]),
        ({"advantage": "gae", "bootstrap_truncation": False}, [1.0625, 1.75, 2.0], [1.5625, 2.0, 3.0]),
    ],
)
def test_advantages_of_the_critics_estimators_by_hand(small, settings, advantages, returns):
    config = RLConfig(gamma=0.5, gae_lambda=0.5, normalize_advantages=False, **settings)
    estimate = compute_advantages(small, config)
    assert estimate.advantages.tolist() == pytest.approx(advantages)
    assert estimate.returns.tolist() == pytest.approx(returns)
    assert estimate.keep.tolist() == [True, True, True] and estimate.metrics == {}
    normalized = compute_advantages(small, dataclasses.replace(config, normalize_advantages=True)).advantages
    expected = torch.tensor(advantages)
    torch.testing.assert_close(normalized, (expected - expected.mean()) / (expected.std() + 1e-8))


def test_a_group_estimator_gives_groups_of_one_episode_no_advantage(small):
    estimate = compute_advantages(small, RLConfig(advantage="rloo", scale_by_std=False))
    # Seeds 1 and 2 are groups of one episode each: nothing to compare with.
    assert estimate.advantages.tolist() == [0.0, 0.0, 0.0] and estimate.metrics["groups/count"] == 2.0


def test_an_update_with_every_group_dropped_changes_nothing(acted):
    policy, rollout, _ = acted
    uniform = [dataclasses.replace(e, rewards=[0.0] * len(e)) for e in rollout.episodes]  # equal returns everywhere
    flat = score_episodes(policy, uniform, chunk=8)
    trained = copy.deepcopy(policy)
    config = RLConfig(advantage="grpo", target_kl=0.01)
    metrics = update_policy(
        trained, torch.optim.SGD(trained.trainable_parameters(), lr=LR), flat, config, torch.Generator()
    )
    assert metrics["losses/updated_decisions"] == 0.0 and metrics["groups/dropped_share"] == 1.0
    assert "losses/pg_loss" not in metrics and metrics["losses/early_stop"] == 0.0
    for after, before in zip(trained.trainable_parameters(), policy.trainable_parameters(), strict=True):
        assert torch.equal(after, before)


def test_a_non_finite_gradient_stops_the_update_with_a_clear_error(acted):
    policy, rollout, _ = acted
    broken = copy.deepcopy(policy)
    broken.value_head.weight.register_hook(lambda grad: grad * float("inf"))
    optimizer = torch.optim.SGD(broken.trainable_parameters(), lr=LR)
    with pytest.raises(
        NonFiniteLossError, match=r"^The update diverged: the gradient norm is (inf|nan) \(iteration 2, epoch 0\)"
    ):
        update_policy(broken, optimizer, rollout, RLConfig(), torch.Generator(), context="iteration 2, ")


def set_one_lora_weight(policy: LMPolicy, value: float) -> None:
    """Beyond the default limit of 1e4, while the loss and the gradients stay small."""
    with torch.no_grad():
        next(p for name, p in policy.named_parameters() if "lora_A" in name)[0, 0] = value


@pytest.mark.parametrize(
    ("what", "breaks"),
    [
        ("the loss", lambda policy: policy.value_head.bias.data.fill_(1e3)),  # v_loss near 1e6 / 2
        ("the gradient norm", lambda policy: policy.value_head.weight.register_hook(lambda grad: grad * 1e6)),
        ("the largest trainable weight", lambda policy: set_one_lora_weight(policy, 2e4)),
    ],
    ids=["loss", "gradient", "weight"],
)
def test_an_exploding_update_stops_with_an_error_naming_what_exploded(acted, what, breaks):
    policy, rollout, _ = acted
    broken = copy.deepcopy(policy)
    breaks(broken)
    optimizer = torch.optim.SGD(broken.trainable_parameters(), lr=0.0)  # the weights stay where they were put
    with pytest.raises(DivergenceError, match=f"^The update diverged: {what} is .* beyond the limit 10000. Lower"):
        update_policy(broken, optimizer, rollout, RLConfig(), torch.Generator(), context="iteration 2, ")
    update_policy(broken, optimizer, rollout, RLConfig(divergence_limit=1e9), torch.Generator())  # a higher limit
    with pytest.raises(ValueError, match="divergence_limit must be positive, got 0"):
        RLConfig(divergence_limit=0)


def test_a_run_at_a_huge_learning_rate_stops_before_checkpointing_what_diverged(tmp_path):
    config = tiny_config(tmp_path, iterations=8, num_envs=4, checkpoint_every=1)
    config = dataclasses.replace(config, rl=dataclasses.replace(config.rl, learning_rate=1e6))
    trainer = ReflectRLTrainer(config)
    with pytest.raises(DivergenceError, match=r"\(iteration 1, env .*learning rate \(learning_rate, now 1e\+06\)"):
        trainer.train()
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_explained_variance_is_nan_when_the_returns_do_not_vary(acted):
    policy, rollout, _ = acted
    same = [dataclasses.replace(e, rewards=[0.0] * (len(e) - 1) + [1.0], terminated=True) for e in rollout.episodes]
    flat = score_episodes(policy, same, chunk=8)
    flat = dataclasses.replace(flat, values=flat.values + torch.linspace(-1, 1, len(flat)))
    trained = copy.deepcopy(policy)
    config = RLConfig(gamma=1.0, value_baseline=True)
    metrics = update_policy(
        trained, torch.optim.SGD(trained.trainable_parameters(), lr=LR), flat, config, torch.Generator()
    )
    assert math.isnan(metrics["losses/explained_var"])


def test_the_value_clip_holds_the_new_value_within_clip_coef_above_the_old_one(acted, small):
    policy = copy.deepcopy(acted[0])
    with torch.no_grad():
        policy.value_head.weight.zero_()  # every new value 0, below every return (3, 4, 3)
        _, new = policy(small.batch)
    returns = torch.tensor([3.0, 4.0, 3.0])
    config = RLConfig(clip_value=True, gamma=0.5, normalize_advantages=False, update_epochs=1, ent_coef=0.0)
    old = new - 1.0  # the value moved up by 1: the clip holds it at old + 0.2, further from the returns
    clipped = old + config.clip_coef
    expected = 0.5 * torch.maximum((new - returns) ** 2, (clipped - returns) ** 2).mean()
    assert expected > 0.5 * ((new - returns) ** 2).mean()  # the clipped error is the one that counts
    optimizer = torch.optim.SGD(policy.trainable_parameters(), lr=LR)
    metrics = update_policy(policy, optimizer, dataclasses.replace(small, values=old), config, torch.Generator())
    assert metrics["losses/v_loss"] == pytest.approx(expected.item(), rel=1e-5)


def test_the_first_minibatchs_approx_kl_is_measured_before_any_step(acted):
    """``losses/approx_kl_first_minibatch``: the rollout's against the update's log-probabilities of the first
    minibatch, before the policy moves (the mean ``losses/approx_kl`` mixes in every later step)."""
    policy, rollout, start_logprobs = acted
    config = RLConfig(update_epochs=2, minibatch_size=4, micro_batch_size=2)
    kept = compute_advantages(rollout, config).keep.nonzero().squeeze(1)
    first = kept[torch.randperm(len(kept), generator=torch.Generator().manual_seed(0))][: config.minibatch_size]
    _, parts, _ = hand_written_loss(policy, rollout, config, start_logprobs, minibatch=first.tolist())

    trained = copy.deepcopy(policy)  # the fixture is shared by the module's tests
    optimizer = torch.optim.SGD(trained.trainable_parameters(), lr=LR * 100)
    metrics = update_policy(trained, optimizer, rollout, config, torch.Generator().manual_seed(0))
    assert metrics["losses/approx_kl_first_minibatch"] == pytest.approx(parts["approx_kl"], rel=1e-4, abs=1e-6)
    assert metrics["losses/approx_kl"] != pytest.approx(parts["approx_kl"], rel=1e-2)
