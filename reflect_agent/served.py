"""The frozen reflector served by an OpenAI-compatible server: vLLM on a GPU, llama.cpp's server,
``transformers serve``, or a large remote model.

:class:`ServedReflector` is what :meth:`reflect_agent.reflector.Reflector.from_config` returns when
``ReflectorConfig.server_url`` is set. It is a :class:`~reflect_agent.reflector.Reflector` whose continuations come
from the server instead of a model in this process, so :meth:`~reflect_agent.reflector.Reflector.reflect` is the
same code: the same prompt (``template.reflector_prompt``, fitted to ``max_prompt_tokens`` with the tokenizer of
``ReflectorConfig.model``), the same ``reflect_prob`` draws from the same seeded generator, and the text cut before
the first stop string. Each request asks for the same continuation a local reflector writes: ``max_tokens`` is
``max_new_tokens``, ``temperature`` is 0 when greedy, and ``stop`` the reflector's stop strings.

* ``server_api="completions"`` posts the prompt to ``{server_url}/completions`` for a raw continuation, as the
  local reflector continues it; serve the reflector's own weights (``reflect-rl export`` merges a warmed-up
  adapter into a folder a server loads).
* ``server_api="chat"`` sends the prompt as one user message to ``{server_url}/chat/completions``, for chat models
  that only offer that endpoint; the server wraps it in the model's chat template, so the text differs from a
  local reflector's.

The requests of one batch go out together, at most ``server_concurrency`` at a time, and the continuations come
back in the order of the prompts. Every request goes through :class:`reflect_agent.openai_api.OpenAIClient`: one
deadline per attempt, retries with backoff, a size limit, no redirects, and the key (read from the environment
variable ``server_key_env``, never from the config) sent to ``server_url`` only. A server that is down, too slow
or answers something that is not a completion raises :class:`~reflect_agent.openai_api.OpenAIChatError` after the
retries. An empty reflection (nothing left before the first stop string) raises :class:`EmptyReflectionError`,
or with ``server_empty="count"`` stays ``""`` and is counted in :attr:`ServedReflector.empty_count`. Nothing falls
back to another model.

The reflection cache of a greedy local reflector is not used: the reflector's identity cannot see which weights
stand behind a URL, so cached text could outlive a change of the served model.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import os

from transformers import PreTrainedTokenizerBase

from reflect_agent.models import load_tokenizer
from reflect_agent.openai_api import OpenAIClient
from reflect_agent.prompts import PromptTemplate
from reflect_agent.reflector import Reflector, ReflectorConfig, cut_at_stops


class EmptyReflectionError(RuntimeError):
    """The server answered a continuation with nothing before the first stop string."""


class ServedReflector(Reflector):
    """Writes analyses of states with a frozen LM behind an OpenAI-compatible server; see the module docstring.

    Args:
        config: The reflector's config, with ``server_url`` and ``model`` (the tokenizer spec) set.
        tokenizer: The tokenizer that fits prompts; ``None`` loads the one of ``config.model``
            (:func:`reflect_agent.models.load_tokenizer`).
        template: Prompt template; ``None`` means ``config.template``.

    Attributes:
        client: The HTTP client of ``config.server_url``.
        empty_count: Empty reflections answered so far (counted with ``server_empty="count"``).

    Raises:
        ValueError: ``config.server_url`` is not set.
    """

    def __init__(
        self,
        config: ReflectorConfig,
        tokenizer: PreTrainedTokenizerBase | None = None,
        template: PromptTemplate | None = None,
    ):
        if config.server_url is None or config.model is None:
            raise ValueError(
                "ServedReflector needs ReflectorConfig.server_url (the API root, e.g. http://127.0.0.1:8000/v1) and "
                "ReflectorConfig.model (the tokenizer); for a reflector in this process use Reflector."
            )
        self.client = OpenAIClient(
            config.server_url,
            config.server_model or config.model,
            os.environ.get(config.server_key_env, "") if config.server_key_env else "",
            timeout=config.server_timeout,
            retries=config.server_retries,
            backoff=config.server_backoff,
        )
        self.empty_count = 0
        super().__init__(None, tokenizer or load_tokenizer(config.model), config, template=template)
        self.cache = None  # see the module docstring: a URL does not tell which weights answer

    def identity(self) -> str:
        """A digest of the server, the served model's name, the endpoint and everything that shapes the request."""
        parts = {
            "server_url": self.client.base_url,
            "server_model": self.client.model,
            "server_api": self.config.server_api,
            "tokenizer": self.config.model,
            "greedy": self.config.greedy,
            "temperature": None if self.config.greedy else self.config.temperature,
            "max_new_tokens": self.config.max_new_tokens,
            "max_prompt_tokens": self.config.max_prompt_tokens,
            "stop_strings": self.stop_strings,
            "template": dataclasses.asdict(self.template),
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def continue_prompts(self, prompts: list[str]) -> list[str]:
        """The server's raw continuation of each prompt, asked concurrently, in the order of ``prompts``.

        A prompt over ``max_prompt_tokens`` keeps its last tokens, as in the local reflector; :meth:`reflect` fits
        its prompts beforehand.

        Raises:
            OpenAIChatError: A request failed after its retries, or its answer is not a completion.
            EmptyReflectionError: A continuation is empty before its first stop string, with ``server_empty="error"``.
        """
        prompts = [self._keep_last_tokens(prompt) for prompt in prompts]
        if not prompts:
            return []
        workers = min(self.config.server_concurrency, len(prompts))
        with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="served-reflector") as pool:
            futures = [pool.submit(self._ask, prompt) for prompt in prompts]
            try:
                texts = [future.result() for future in futures]
            except BaseException:
                # The first failure ends the batch: requests not yet sent are dropped, those in flight end within
                # their deadline.
                for future in futures:
                    future.cancel()
                raise
        empty = [i for i, text in enumerate(texts) if not cut_at_stops(text, self.stop_strings)]
        if empty and self.config.server_empty == "error":
            raise EmptyReflectionError(
                f"{self.client.base_url} answered {len(empty)} of {len(texts)} reflections empty (nothing before a "
                f"stop string {self.stop_strings}), e.g. {texts[empty[0]]!r:.200}. Check that the server serves the "
                "reflector's model (server_model) and endpoint (server_api), or set server_empty='count' to keep "
                "empty reflections and count them."
            )
        self.empty_count += len(empty)
        return texts

    def _keep_last_tokens(self, prompt: str) -> str:
        """``prompt``, or the text of its last ``max_prompt_tokens`` tokens when it is longer."""
        token_ids = self.tokenizer(prompt).input_ids
        if len(token_ids) <= self.config.max_prompt_tokens:
            return prompt
        return self.tokenizer.decode(token_ids[-self.config.max_prompt_tokens :])

    def _ask(self, prompt: str) -> str:
        """The continuation of one prompt, from the configured endpoint."""
        parameters = {
            "max_tokens": self.config.max_new_tokens,
            "temperature": 0.0 if self.config.greedy else self.config.temperature,
            "stop": self.stop_strings,
        }
        if self.config.server_api == "chat":
            return self.client.chat([{"role": "user", "content": prompt}], **parameters)
        return self.client.complete(prompt, **parameters)
