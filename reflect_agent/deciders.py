"""Other ways for an LM to choose among admissible actions, for comparison with the policy's own deciders.

Both use a policy's model, tokenizer, prompts and value head, and offer the policy's interface (``encode``,
``get_action_and_value``, ``act``):

* :class:`CandidateScoringDecider` scores every action string as a continuation of the prompt
  (:mod:`reflect_agent.scoring`) with a chosen continuation format and reduction. A ``"scoring"``
  :class:`reflect_agent.policy.LMPolicy` decides this way with the defaults, in evaluation, SFT and online RL.
* :class:`GenerateParseDecider` lets the LM write a few tokens after the cue and parses them as a label or an
  action string; text that names no admissible action gives action ``-1``.

:class:`reflect_agent.policy.LMPolicy` itself is the enumeration decider: one sequence per state.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase, StoppingCriteria, StoppingCriteriaList

from reflect_agent.policy import LMPolicy, causal_lm
from reflect_agent.scoring import candidate_scores, with_candidates
from reflect_agent.tensors import PolicyBatch, check_actions, choose_actions, masked_log_softmax
from reflect_gym.wrappers import parse_action


class CandidateScoringDecider:
    """Per-candidate scoring with a chosen continuation and reduction, for comparing scoring variants.

    A ``"scoring"`` :class:`~reflect_agent.policy.LMPolicy` scores ``" {action}"`` by the sum of its tokens'
    log-probabilities; this decider scores any ``candidate_format`` (``"{label}"`` scores the label as text) with
    the ``"sum"`` (GLAM) or ``"mean"`` (length-normalised, TWOSOME) reduction, through the same
    :func:`reflect_agent.scoring.candidate_scores`.

    Args:
        policy: Supplies the model, tokenizer, prompts, temperature and value head.
        candidate_format: The continuation scored for each action; ``{action}`` is the action string and
            ``{label}`` its label (with its leading space), e.g. ``" {action}"`` (default) or ``"{label}"``.
        reduction: ``"sum"`` of token log-probabilities (GLAM) or their ``"mean"`` (length-normalised, TWOSOME).
    """

    def __init__(self, policy: LMPolicy, *, candidate_format: str = " {action}", reduction: str = "sum"):
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}.")
        self.policy = policy
        self.candidate_format = candidate_format
        self.reduction = reduction

    def candidate_tokens(self, action: str, label: str) -> list[int]:
        """The token ids scored for one action (appended to the prompt's ids, as SFT also appends them)."""
        text = self.candidate_format.format(action=action, label=label)
        ids = self.policy.tokenizer(text, add_special_tokens=False).input_ids
        if not ids:
            raise ValueError(f"Candidate {text!r} has no tokens; use a candidate_format that adds text.")
        return ids

    def encode(
        self, states: list[str], actions: list[list[str]], reflections: list[str | None] | None = None
    ) -> PolicyBatch:
        """Encode each state's prompt and its admissible actions' candidate tokens, on CPU."""
        prompts = self.policy.encode_prompts(states, actions, reflections)
        labels = self.policy.labels
        candidates = [
            [self.candidate_tokens(action, label) for label, action in zip(labels, acts, strict=False)]
            for acts in actions
        ]
        return with_candidates(prompts, candidates, self.policy.tokenizer.pad_token_id)

    def forward(self, batch: PolicyBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Action log-probabilities ``(B, A)`` (masked, tempered) and values ``(B,)``, from one forward pass."""
        policy = self.policy
        batch = batch.to(policy.device)
        scores, hidden = candidate_scores(causal_lm(policy.model), batch, policy.autocast, reduction=self.reduction)
        logprobs = masked_log_softmax(policy.tempered(scores, batch), batch.action_mask)  # (B, A)
        value = policy.value_head(hidden.float()).squeeze(-1)  # (B,)
        return logprobs, value

    __call__ = forward

    def get_action_and_value(
        self, batch: PolicyBatch, action: torch.Tensor | None = None, *, greedy: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Like :meth:`LMPolicy.get_action_and_value`, scoring every action's text."""
        logprobs, value = self.forward(batch)  # (B, A), (B,)
        action, logprob, entropy = choose_actions(
            logprobs, batch.action_mask.to(logprobs.device), action, greedy=greedy
        )
        return action, logprob, entropy, value

    @torch.no_grad()
    def act(
        self,
        states: list[str],
        actions: list[list[str]],
        reflections: list[str | None] | None = None,
        *,
        greedy: bool = False,
    ) -> list[int]:
        """Choose one action index per state (no gradients)."""
        action, _, _, _ = self.get_action_and_value(self.encode(states, actions, reflections), greedy=greedy)
        return action.tolist()


@dataclass
class GenerationBatch:
    """Prompts for :class:`GenerateParseDecider`, plus what parsing needs."""

    policy_batch: PolicyBatch
    actions: list[list[str]]

    def __len__(self) -> int:
        return len(self.policy_batch)


class FirstLineDone(StoppingCriteria):
    """Marks a row done once its generated text holds a complete non-empty line (leading newlines skipped)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, prompt_length: int):
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor | None, **kwargs) -> torch.BoolTensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length :], skip_special_tokens=True)
        return torch.tensor([line_done(t) for t in texts], dtype=torch.bool, device=input_ids.device)


def line_done(text: str) -> bool:
    """Whether ``text`` holds a complete non-empty line: a newline after some non-blank text."""
    return "\n" in text.lstrip()


class GenerateParseDecider:
    """Generate a short reply after the action cue and parse its first line as a label or an action string.

    Generation stops at EOS, once the reply holds one complete non-empty line (small models often start with a
    newline, then write ``"A. move south"``), or after ``max_new_tokens``. A reply that names no admissible
    action gives action ``-1``.

    ``get_action_and_value`` returns, for generated actions, the log-probability of the reply's tokens (as a
    sequence); for given actions, the log-probability of generating that action's label as the first token.
    Its entropy is the one of the first generated token over the whole vocabulary.

    Args:
        policy: Supplies the model, tokenizer, prompts, labels, temperature and value head.
        max_new_tokens: Generation limit.
    """

    def __init__(self, policy: LMPolicy, *, max_new_tokens: int = 8):
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}.")
        self.policy = policy
        self.max_new_tokens = max_new_tokens

    def encode(
        self, states: list[str], actions: list[list[str]], reflections: list[str | None] | None = None
    ) -> GenerationBatch:
        """Encode the policy prompts (on CPU)."""
        return GenerationBatch(self.policy.encode(states, actions, reflections), [list(a) for a in actions])

    def parse(self, text: str, actions: list[str]) -> int:
        """The admissible index the reply ``text`` names, by label (``"B"``, ``"B."``, ``"(B)"``, ``"B. open the
        fridge"``) or by action string at the start of a line; ``-1`` when it names none (the first line that names
        one counts; see :func:`reflect_gym.wrappers.parse_action`)."""
        return parse_action(text, actions, labels=self.policy.labels[: len(actions)], reply=True)

    def _generate(self, batch: PolicyBatch, *, greedy: bool, details: bool):
        policy = self.policy
        batch = batch.to(policy.device)
        sampling = {} if greedy else {"temperature": policy.config.temperature}
        with policy.autocast():
            return policy.model.generate(
                input_ids=batch.input_ids,
                attention_mask=batch.attention_mask,
                max_new_tokens=self.max_new_tokens,
                do_sample=not greedy,
                stopping_criteria=StoppingCriteriaList([FirstLineDone(policy.tokenizer, batch.input_ids.shape[1])]),
                pad_token_id=policy.tokenizer.pad_token_id,
                eos_token_id=policy.tokenizer.eos_token_id,
                return_dict_in_generate=True,
                output_logits=details,
                output_hidden_states=details,
                **sampling,
            )

    def _parse_all(self, generated: torch.Tensor, actions: list[list[str]]) -> torch.Tensor:
        texts = self.policy.tokenizer.batch_decode(generated, skip_special_tokens=True)
        return torch.tensor([self.parse(t, a) for t, a in zip(texts, actions, strict=True)], dtype=torch.long)

    def reply_lengths(self, generated: torch.Tensor) -> torch.Tensor:
        """``(B,)`` tokens each row generated before it was done (the rest of the row is padding)."""
        eos = self.policy.tokenizer.eos_token_id
        lengths = []
        for row in generated.tolist():
            length = len(row)
            for k in range(1, len(row) + 1):
                if row[k - 1] == eos or line_done(self.policy.tokenizer.decode(row[:k], skip_special_tokens=True)):
                    length = k
                    break
            lengths.append(length)
        return torch.tensor(lengths, device=generated.device)

    def get_action_and_value(
        self, batch: GenerationBatch, action: torch.Tensor | None = None, *, greedy: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(action, logprob, entropy, value)``, each ``(B,)``; see the class docstring for their meaning."""
        policy = self.policy
        output = self._generate(batch.policy_batch, greedy=greedy, details=True)
        generated = output.sequences[:, batch.policy_batch.input_ids.shape[1] :]  # (B, G)
        logits = torch.stack(output.logits, dim=1).float()  # (B, G, V)
        step_logprobs = (logits / policy.config.temperature).log_softmax(-1)  # (B, G, V)
        first = step_logprobs[:, 0]  # (B, V)
        entropy = -torch.where(first.exp() > 0, first.exp() * first, 0.0).sum(-1)  # (B,)
        prompt_hidden = output.hidden_states[0][-1][:, -1]  # (B, H)
        value = policy.value_head(prompt_hidden.float()).squeeze(-1)  # (B,)
        if action is None:
            action = self._parse_all(generated, batch.actions).to(policy.device)
            token_logprobs = step_logprobs.gather(-1, generated.unsqueeze(-1)).squeeze(-1)  # (B, G)
            in_reply = (
                torch.arange(generated.shape[1], device=generated.device) < self.reply_lengths(generated)[:, None]
            )
            logprob = torch.where(in_reply, token_logprobs, 0.0).sum(-1)  # (B,)
        else:
            action = action.to(policy.device, dtype=torch.long)
            check_actions(action, batch.policy_batch.action_mask.to(policy.device))
            label_ids = batch.policy_batch.label_ids.to(policy.device)
            logprob = first.gather(1, label_ids.gather(1, action.unsqueeze(1))).squeeze(1)  # (B,)
        return action, logprob, entropy, value

    @torch.no_grad()
    def act(
        self,
        states: list[str],
        actions: list[list[str]],
        reflections: list[str | None] | None = None,
        *,
        greedy: bool = False,
    ) -> list[int]:
        """Choose one action index per state (``-1`` where the reply names no admissible action)."""
        batch = self.policy.encode(states, actions, reflections)
        output = self._generate(batch, greedy=greedy, details=False)
        return self._parse_all(output.sequences[:, batch.input_ids.shape[1] :], actions).tolist()
