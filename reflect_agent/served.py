"""The frozen reflector served by an OpenAI-compatible server: vLLM on a GPU, llama.cpp's server,
``transformers serve``, or a large remote model.

:class:`ServedModel` is the model of a :class:`~reflect_agent.reflector.Reflector` whose ``ReflectorConfig.server_url``
is set: the reflector's continuations come from the server instead of a model in this process, and
:meth:`~reflect_agent.reflector.Reflector.reflect` is the same code: the same prompt (``template.reflector_prompt``, fitted to ``max_prompt_tokens`` with the tokenizer of
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
or with ``server_empty="count"`` stays ``""`` and is counted in :attr:`ServedModel.empty_count` (the reflector's
``empty_count``). Nothing falls back to another model.

The reflection cache of a greedy local reflector is not used: the reflector's identity cannot see which weights
stand behind a URL, so cached text could outlive a change of the served model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from transformers import PreTrainedTokenizerBase

from reflect_agent.openai_api import OpenAIClient, RequestPool
from reflect_agent.prompts import cut_at_stops


class EmptyReflectionError(RuntimeError):
    """The server answered a continuation with nothing before the first stop string."""


class ServedModel:
    """A frozen reflector's LM behind an OpenAI-compatible server; see the module docstring.

    Args:
        client: The HTTP client of the server (its URL, model name and key).
        tokenizer: The tokenizer of the served model, which fits prompts to ``max_prompt_tokens``.
        api: ``"completions"`` (raw continuation) or ``"chat"`` (the prompt as one user message).
        max_new_tokens: ``max_tokens`` of each request.
        temperature: Sampling temperature (0: greedy).
        stop_strings: ``stop`` of each request; a continuation is empty when nothing precedes the first of them.
        max_prompt_tokens: A prompt over this many tokens keeps its last ones.
        concurrency: Requests in flight at once.
        empty: ``"error"`` raises :class:`EmptyReflectionError` on an empty continuation, ``"count"`` counts it.

    Attributes:
        empty_count: Empty continuations answered so far (counted with ``empty="count"``).
    """

    def __init__(
        self,
        client: OpenAIClient,
        tokenizer: PreTrainedTokenizerBase,
        *,
        api: Literal["completions", "chat"],
        max_new_tokens: int,
        temperature: float,
        stop_strings: Sequence[str],
        max_prompt_tokens: int,
        concurrency: int,
        empty: Literal["error", "count"],
    ):
        self.client = client
        self.tokenizer = tokenizer
        self.api = api
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.stop_strings = list(stop_strings)
        self.max_prompt_tokens = max_prompt_tokens
        self.concurrency = concurrency
        self.pool = RequestPool(concurrency, name="served-reflector")  # its threads live from batch to batch
        self.empty = empty
        self.empty_count = 0

    def identity_parts(self) -> dict[str, Any]:
        """What names the served model in a reflector's identity: the server, the model's name and the endpoint."""
        return {"server_url": self.client.base_url, "server_model": self.client.model, "server_api": self.api}

    def continue_prompts(self, prompts: list[str]) -> list[str]:
        """The server's raw continuation of each prompt, asked concurrently, in the order of ``prompts``.

        Raises:
            OpenAIChatError: A request failed after its retries, or its answer is not a completion.
            EmptyReflectionError: A continuation is empty before its first stop string, with ``empty="error"``.
        """
        prompts = [self._keep_last_tokens(prompt) for prompt in prompts]
        if not prompts:
            return []
        # The first failure ends the batch: requests not yet sent are dropped, those in flight end within their deadline.
        texts = self.pool.map(self._ask, prompts)
        empty = [i for i, text in enumerate(texts) if not cut_at_stops(text, self.stop_strings)]
        if empty and self.empty == "error":
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
        if len(token_ids) <= self.max_prompt_tokens:
            return prompt
        return self.tokenizer.decode(token_ids[-self.max_prompt_tokens :])

    def _ask(self, prompt: str) -> str:
        """The continuation of one prompt, from the configured endpoint."""
        parameters = {"max_tokens": self.max_new_tokens, "temperature": self.temperature, "stop": self.stop_strings}
        if self.api == "chat":
            return self.client.chat([{"role": "user", "content": prompt}], **parameters)
        return self.client.complete(prompt, **parameters)
