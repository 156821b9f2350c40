"""The reflector: a frozen LM that writes a short analysis of the current state for the policy to read.

As in the Reflect-RL paper, the reflector sees the state and the admissible actions and writes an analysis
(at most ``max_new_tokens``, 100 in the paper); the policy's prompt then carries it in its analysis section.
With probability ``1 - reflect_prob`` a state gets no reflection (``""``). Generation is batched, runs under
``torch.inference_mode()`` (the reflector never receives gradients) and stops at EOS, at any stop string (by
default the template's action cue and section headers, which the text is cut before) or at the token limit.

A frozen reflector that decodes greedily is a pure function of its prompt, which makes it cheap to run online:

* Greedy reflections go through :func:`reflect_agent.decoding.greedy_decode`, which drops each row from the
  batch and the KV cache as soon as it is done (``fast_decode``; ``model.generate`` otherwise), and checks several
  tokens per forward pass, drafted from what followed the same tokens in the reflector's earlier reflections
  (``draft_tokens``; :class:`reflect_agent.decoding.NgramDrafts`).
* A :class:`reflect_agent.reflection_cache.ReflectionCache` answers a prompt it has seen before, and a batch
  generates each distinct prompt once (``cache_entries``; the cache belongs to the reflector's
  :meth:`Reflector.identity`, so a changed reflector never reads stale entries).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from peft import PeftModel
from torch import nn
from transformers import PreTrainedTokenizerBase, StoppingCriteria, StoppingCriteriaList

from reflect_agent.decoding import DecodeStats, NgramDrafts, greedy_decode
from reflect_agent.models import autocast_weights, load_lora, load_model, load_tokenizer, pack_linears
from reflect_agent.openai_api import OpenAIClient
from reflect_agent.policy import LMPolicy, causal_lm
from reflect_agent.prompts import PromptTemplate, cut_at_stops, fit_state
from reflect_agent.reflection_cache import ReflectionCache
from reflect_agent.served import ServedModel
from reflect_agent.tensors import left_pad


@dataclass
class ReflectorConfig:
    """How the reflector is built and how it writes.

    Attributes:
        model: Model spec for :func:`reflect_agent.models.load_model`; ``None`` shares the policy's base model
            with its LoRA adapters switched off (so the reflector stays frozen while the policy trains).
        adapter: Folder of a LoRA adapter (e.g. from SFT) to put on the reflector's own model; needs ``model``.
        merge_adapter: Fold ``adapter`` into the weights once at load (peft's ``merge_and_unload``), in the loaded
            dtype: a frozen reflector then decodes as fast as its base model, without the adapter's extra layers at
            every step. Its text is that of the merged weights, the model ``reflect-rl export`` writes for a
            server; rounding can make it differ from the unmerged adapter's, most often under bf16.
        max_new_tokens: Token limit of one reflection (100 in the paper).
        reflect_prob: Probability that a state gets a reflection; the others get ``""``.
        greedy: Greedy decoding; ``False`` samples with ``temperature``.
        temperature: Sampling temperature when not greedy.
        max_prompt_tokens: Prompts longer than this lose part of their state (see
            :func:`reflect_agent.prompts.fit_state`).
        stop_strings: Strings that end a reflection (cut before them); ``None`` means the template's cue and
            headers.
        seed: Seed of the ``reflect_prob`` draws.
        device: Device of the reflector's own model; ``None`` means CUDA when available.
        dtype: Parameter dtype of its own model; ``None`` means bf16 on CUDA, fp32 on CPU.
        autocast: Generate under bf16 autocast. A reflector with a model of its own then keeps its linear layers'
            weights in bf16 (:func:`reflect_agent.models.autocast_weights`): the same outputs, half the bytes read
            per decoding step.
        pack_weights: On a CPU with bf16, lay out the bf16 linear layers of a reflector with a model of its own
            once for oneDNN (:func:`reflect_agent.models.pack_linears`): the same outputs, a faster decoding step,
            twice the memory of those weights.
        fast_decode: Decode greedy reflections with :func:`reflect_agent.decoding.greedy_decode` (the same tokens
            as ``model.generate`` in fp32, without carrying finished rows; under bf16 the smaller batches can round
            otherwise); sampling always uses ``model.generate``.
        draft_tokens: With ``fast_decode``, the most tokens a row guesses per forward pass from the reflector's own
            earlier reflections (:class:`reflect_agent.decoding.NgramDrafts`: what followed the same two tokens last
            time), all checked against the pass's argmax: the same text, fewer passes where the analyses repeat
            their phrasing (0: one token per pass).
        batch_size: The most prompts one decoding call takes; a larger request (the warm-up's states, hundreds at
            once) runs in chunks of this many, in order: each chunk's prompt pass stays small, and the drafts learnt
            from each chunk serve the next (drafts help only once a call has taught them).
        cache_entries: Reflections kept by the :class:`~reflect_agent.reflection_cache.ReflectionCache` of a
            greedy reflector (0: no cache).
        cache_bytes: Bytes of reflection text the cache keeps at most.
        template: Prompt template (ignored when sharing a policy: the policy's template is used).
        server_url: The API root of an OpenAI-compatible server (``http://127.0.0.1:8000/v1``: vLLM, llama.cpp's
            server, ``transformers serve``, a remote model) that writes the reflections instead of a model in this
            process (:class:`reflect_agent.served.ServedModel`); ``None``: a local model. ``model`` then names
            the tokenizer that fits prompts to ``max_prompt_tokens`` (the served model's own, e.g. its folder);
            ``device``, ``dtype`` and ``autocast`` are not used.
        server_model: The model name sent to the server; ``None`` sends ``model``.
        server_api: ``"completions"``: raw continuation of the prompt at ``{server_url}/completions``, as a local
            reflector writes it; ``"chat"``: the prompt as one user message to ``{server_url}/chat/completions``
            (the server applies the model's chat template).
        server_key_env: The environment variable holding the API key, sent to ``server_url`` only; ``None`` or an
            unset variable sends none (the key never goes into a config file).
        server_concurrency: Requests of one batch in flight at once.
        server_timeout: Seconds one attempt of a request may take in all.
        server_retries: Further attempts after a failed request (connection error, deadline, HTTP 429/5xx).
        server_backoff: Seconds before the first retry; doubled for each later one.
        server_empty: An empty reflection (nothing before the first stop string): ``"error"`` raises
            :class:`reflect_agent.served.EmptyReflectionError`; ``"count"`` keeps ``""`` and counts it in
            ``Reflector.empty_count``.
    """

    model: str | None = None
    adapter: str | None = None
    merge_adapter: bool = True
    max_new_tokens: int = 100
    reflect_prob: float = 1.0
    greedy: bool = True
    temperature: float = 1.0
    max_prompt_tokens: int = 1024
    stop_strings: list[str] | None = None
    seed: int = 0
    device: str | None = None
    dtype: str | None = None
    autocast: bool = False
    pack_weights: bool = True
    fast_decode: bool = True
    draft_tokens: int = 8
    batch_size: int = 32
    cache_entries: int = 100_000
    cache_bytes: int = 64 * 2**20
    template: PromptTemplate = field(default_factory=PromptTemplate)
    server_url: str | None = None
    server_model: str | None = None
    server_api: Literal["completions", "chat"] = "completions"
    server_key_env: str | None = "OPENAI_API_KEY"
    server_concurrency: int = 8
    server_timeout: float = 60.0
    server_retries: int = 3
    server_backoff: float = 1.0
    server_empty: Literal["error", "count"] = "error"

    def __post_init__(self) -> None:
        if isinstance(self.template, dict):
            self.template = PromptTemplate(**self.template)
        if not 0.0 <= self.reflect_prob <= 1.0:
            raise ValueError(f"reflect_prob must be in [0, 1], got {self.reflect_prob}.")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}.")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}; use greedy=True for argmax.")
        if self.cache_entries < 0 or self.cache_bytes < 1:
            raise ValueError(
                f"cache_entries must be >= 0 (0: no cache) and cache_bytes >= 1, got {self.cache_entries} and "
                f"{self.cache_bytes}."
            )
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}.")
        if self.draft_tokens < 0:
            raise ValueError(f"draft_tokens must be >= 0 (0: one token per pass), got {self.draft_tokens}.")
        if self.adapter is not None and self.model is None:
            raise ValueError(
                "ReflectorConfig.adapter needs ReflectorConfig.model (the base the adapter was trained on)."
            )
        if self.server_url is not None:
            self._check_server()

    def _check_server(self) -> None:
        """The served reflector's fields: a URL and a tokenizer, no adapter, settings in range."""
        if not self.server_url.startswith(("http://", "https://")):
            raise ValueError(
                f"server_url must be a server's API root such as http://127.0.0.1:8000/v1, got {self.server_url!r}."
            )
        if self.model is None:
            raise ValueError(
                "ReflectorConfig.server_url needs ReflectorConfig.model: the tokenizer that fits prompts to "
                "max_prompt_tokens, as the served model counts them (its folder or load_model spec, e.g. 'smollm2')."
            )
        if self.adapter is not None:
            raise ValueError(
                f"ReflectorConfig.adapter={self.adapter!r} cannot go to a server: merge it into its base with "
                "`reflect-rl export --model MODEL --adapter ADAPTER --out FOLDER`, serve FOLDER, and set adapter=None."
            )
        if self.server_api not in ("completions", "chat"):
            raise ValueError(f"server_api must be 'completions' or 'chat', got {self.server_api!r}.")
        if self.server_empty not in ("error", "count"):
            raise ValueError(f"server_empty must be 'error' or 'count', got {self.server_empty!r}.")
        if not (self.server_concurrency >= 1 and self.server_timeout > 0):
            raise ValueError(
                f"server_concurrency must be >= 1 and server_timeout > 0 seconds, got {self.server_concurrency} and "
                f"{self.server_timeout}."
            )
        if not (self.server_retries >= 0 and self.server_backoff >= 0):
            raise ValueError(
                f"server_retries and server_backoff must be >= 0, got {self.server_retries} and {self.server_backoff}."
            )


class StopOnStrings(StoppingCriteria):
    """Marks a row done once the text it generated after the prompt contains one of ``stops``."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, stops: list[str], prompt_length: int):
        self.tokenizer = tokenizer
        self.stops = stops
        self.prompt_length = prompt_length

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor | None, **kwargs) -> torch.BoolTensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length :], skip_special_tokens=True)
        done = [any(stop in text for stop in self.stops) for text in texts]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class Reflector:
    """Writes analyses of states with a frozen LM, in this process or behind a server.

    Args:
        model: A causal LM; a ``PeftModel`` shared with a policy has its adapters switched off while reflecting.
            ``None`` with ``config.server_url``: the model is served (:class:`reflect_agent.served.ServedModel`).
        tokenizer: Its tokenizer (pad token set).
        config: The reflector's config.
        template: Prompt template; ``None`` means ``config.template``.

    Attributes:
        server: The served model, when ``config.server_url`` is set (``None``: the model runs here).
        cache: The reflection cache of a greedy local reflector (``None`` without one).
    """

    def __init__(
        self,
        model: nn.Module,
        tokenizer: PreTrainedTokenizerBase,
        config: ReflectorConfig,
        template: PromptTemplate | None = None,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.template = template or config.template
        self.stop_strings = list(config.stop_strings or self.template.reflector_stop_strings())
        self.rng = np.random.default_rng(config.seed)
        self.server: ServedModel | None = None
        if config.server_url is not None:
            key = os.environ.get(config.server_key_env, "") if config.server_key_env else ""
            client = OpenAIClient(
                config.server_url,
                config.server_model or config.model,
                key,
                timeout=config.server_timeout,
                retries=config.server_retries,
                backoff=config.server_backoff,
            )
            self.server = ServedModel(
                client,
                tokenizer,
                api=config.server_api,
                max_new_tokens=config.max_new_tokens,
                temperature=0.0 if config.greedy else config.temperature,
                stop_strings=self.stop_strings,
                max_prompt_tokens=config.max_prompt_tokens,
                concurrency=config.server_concurrency,
                empty=config.server_empty,
            )
        #: The fast path's prefill and decode seconds, passes and steps (:func:`greedy_decode`), for metrics.
        self.decode_stats = DecodeStats()
        self.drafts: NgramDrafts | None = None
        if config.greedy and config.fast_decode and config.draft_tokens and self.server is None:
            self.drafts = NgramDrafts(n=2, k=config.draft_tokens)
        self.cache: ReflectionCache | None = None
        # A URL does not tell which weights answer, so a served reflector's text is not cached.
        if config.greedy and config.cache_entries > 0 and self.server is None:
            self.cache = ReflectionCache(
                self.identity(), max_entries=config.cache_entries, max_bytes=config.cache_bytes
            )

    @classmethod
    def from_config(cls, config: ReflectorConfig, policy: LMPolicy | None = None) -> Reflector:
        """Build the reflector: a served one (only the tokenizer of ``config.model`` here) when ``config.server_url``
        is set, else share ``policy``'s base model when ``config.model`` is ``None``, else load one.

        Raises:
            ValueError: Sharing was asked without a policy, or with a policy that trains its whole LM (no LoRA),
                whose weights would not stay frozen.
        """
        if config.server_url is not None:
            return cls(None, load_tokenizer(config.model), config)
        if config.model is None:
            if policy is None:
                raise ValueError("ReflectorConfig.model=None shares the policy's model: pass policy=..., or set model.")
            if not isinstance(policy.model, PeftModel):
                raise ValueError(
                    "The policy trains its whole LM (lora=False), so sharing it would not keep the reflector frozen; "
                    "set ReflectorConfig.model to load a separate one."
                )
            return cls(policy.model, policy.tokenizer, config, template=policy.template)
        model, tokenizer = load_model(config.model, device=config.device, dtype=config.dtype)
        if config.adapter is not None:
            model = load_lora(model, config.adapter)
            if config.merge_adapter:
                model = model.merge_and_unload()
        model.requires_grad_(False)
        model.eval()
        if config.autocast and next(model.parameters()).dtype == torch.float32:
            autocast_weights(model)  # the same outputs under autocast, half the bytes read per decoding step
        if config.pack_weights:
            pack_linears(model)  # bf16 weights on a CPU: laid out once for oneDNN, the same outputs, faster steps
        return cls(model, tokenizer, config)

    @contextlib.contextmanager
    def _frozen(self) -> Iterator[None]:
        """Eval mode (no dropout, even if a shared policy is training) and, when shared, the policy's adapters off."""
        training = self.model.training
        self.model.eval()
        try:
            if isinstance(self.model, PeftModel) and self.config.model is None:
                with self.model.disable_adapter():
                    yield
            else:
                yield
        finally:
            self.model.train(training)

    @property
    def empty_count(self) -> int:
        """Empty reflections a served model answered and counted (``server_empty="count"``); 0 for a local one."""
        return self.server.empty_count if self.server is not None else 0

    @property
    def device(self) -> torch.device:
        """The device of the reflector's model."""
        return next(self.model.parameters()).device

    def identity(self) -> str:
        """A digest of everything that makes this reflector's greedy text a function of its prompt: the base
        model, the adapter's weights, the dtype, the decoding settings, the token limits, the stop strings and the
        template (for a served model: the server, the served model's name and the endpoint instead)."""
        parts: dict[str, object] = {"tokenizer": self.config.model}
        if self.server is not None:
            parts |= self.server.identity_parts()
        else:
            lm = causal_lm(self.model)
            adapter = self.config.adapter
            parts |= {
                "model": self.config.model or f"shared:{lm.config.name_or_path}",
                "adapter": _folder_digest(Path(adapter)) if adapter is not None else None,
                "dtype": str(next(lm.parameters()).dtype),
                "autocast": self.config.autocast,
            }
            if adapter is not None and self.config.merge_adapter:
                parts["merged"] = True  # other rounding than the adapter beside the weights
        parts |= {
            "greedy": self.config.greedy,
            "temperature": None if self.config.greedy else self.config.temperature,
            "max_new_tokens": self.config.max_new_tokens,
            "max_prompt_tokens": self.config.max_prompt_tokens,
            "stop_strings": self.stop_strings,
            "template": dataclasses.asdict(self.template),
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def continue_prompts(self, prompts: list[str]) -> list[str]:
        """The raw continuation of each prompt, batched: up to EOS, a stop string or ``max_new_tokens`` tokens.

        A prompt over ``max_prompt_tokens`` keeps its last tokens; :meth:`reflect` fits its prompts beforehand.
        With a cache, a prompt seen before is answered from it, and each distinct new prompt is generated once.
        A served model is asked for every prompt (:meth:`reflect_agent.served.ServedModel.continue_prompts`).
        """
        if self.server is not None:
            return self.server.continue_prompts(prompts)
        token_lists = [tuple(self.tokenizer(p).input_ids[-self.config.max_prompt_tokens :]) for p in prompts]
        texts: dict[tuple[int, ...], str] = {}
        if self.cache is not None:
            for tokens in dict.fromkeys(token_lists):
                cached = self.cache.get(tokens)
                if cached is not None:
                    texts[tokens] = cached
        todo = [tokens for tokens in dict.fromkeys(token_lists) if tokens not in texts]
        if todo:
            start = time.perf_counter()
            generated = self._generate(todo)
            if self.cache is not None:
                self.cache.stats.generated_s += time.perf_counter() - start
                for tokens, text in zip(todo, generated, strict=True):
                    self.cache.put(tokens, text)
            texts.update(zip(todo, generated, strict=True))
        if self.cache is not None:
            self.cache.count_repeats(len(token_lists) - len(texts))  # rows whose prompt another row asked
        return [texts[tokens] for tokens in token_lists]

    def _generate(self, token_lists: list[tuple[int, ...]]) -> list[str]:
        """The continuations of prompts given as token ids, in chunks of ``config.batch_size``."""
        size = self.config.batch_size
        return [
            text
            for start in range(0, len(token_lists), size)
            for text in self._batch(token_lists[start : start + size])
        ]

    def _batch(self, token_lists: list[tuple[int, ...]]) -> list[str]:
        """The continuations of one batch of prompts, by the fast greedy path or ``model.generate``."""
        autocast = (
            (lambda: torch.autocast(self.device.type, dtype=torch.bfloat16))
            if self.config.autocast
            else contextlib.nullcontext
        )
        with torch.inference_mode(), self._frozen():
            if self.config.greedy and self.config.fast_decode:
                generated, _ = greedy_decode(
                    self.model,
                    self.tokenizer,
                    token_lists,
                    max_new_tokens=self.config.max_new_tokens,
                    stop_strings=self.stop_strings,
                    autocast=autocast,
                    drafts=self.drafts,
                    stats=self.decode_stats,
                )
                if self.drafts is not None:
                    for prompt, tokens in zip(token_lists, generated, strict=True):
                        self.drafts.add([*prompt[-self.drafts.n :], *tokens])
                return self.tokenizer.batch_decode(generated, skip_special_tokens=True)
            input_ids, attention_mask = left_pad([list(t) for t in token_lists], self.tokenizer.pad_token_id)
            prompt_length = input_ids.shape[1]
            sampling = {} if self.config.greedy else {"temperature": self.config.temperature}
            with autocast():
                output = self.model.generate(
                    input_ids=input_ids.to(self.device),
                    attention_mask=attention_mask.to(self.device),
                    max_new_tokens=self.config.max_new_tokens,
                    do_sample=not self.config.greedy,
                    stopping_criteria=StoppingCriteriaList(
                        [StopOnStrings(self.tokenizer, self.stop_strings, prompt_length)]
                    ),
                    pad_token_id=self.tokenizer.pad_token_id,
                    eos_token_id=self.tokenizer.eos_token_id,
                    **sampling,
                )
        return self.tokenizer.batch_decode(output[:, prompt_length:], skip_special_tokens=True)

    def reflect(self, states: list[str], actions: list[list[str]]) -> list[str]:
        """One analysis per state (``""`` for states skipped by ``reflect_prob``), cut before any stop string."""
        if len(states) != len(actions):
            raise ValueError(f"Got {len(states)} states but {len(actions)} action lists.")
        chosen = [i for i in range(len(states)) if self.rng.random() < self.config.reflect_prob]
        reflections = [""] * len(states)
        if not chosen:
            return reflections
        prompts = [
            fit_state(
                self.tokenizer,
                lambda cut, i=i: self.template.reflector_prompt(cut, actions[i]),
                states[i],
                self.config.max_prompt_tokens,
            )[0]
            for i in chosen
        ]
        for i, text in zip(chosen, self.continue_prompts(prompts), strict=True):
            reflections[i] = cut_at_stops(text, self.stop_strings)
        return reflections


def _folder_digest(folder: Path) -> str:
    """A digest of the files of ``folder`` (names and contents), or of its path when it does not exist yet."""
    if not folder.is_dir():
        return f"missing:{folder}"
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
