"""The LM writer: it keeps a reply that names actions by their text, and falls back on one that leaks a label."""

from __future__ import annotations

from reflect_agent.prompts import LETTER_LABELS
from reflect_agent.warmup import LMReflectionWriter, expert_records

TAXI = "ReflectRL/DangerousTaxi-Dropoff-v0"


def test_lm_writer_uses_the_reply_and_falls_back_on_leaks():
    prompts: list[str] = []

    def good(prompt: str) -> str:
        prompts.append(prompt)
        return "The destination is close; keep heading toward it."

    records = expert_records(TAXI, [0], perturb_prob=0.0, writer=LMReflectionWriter(good, "fake-model"))
    assert {r.reflection for r in records} == {"The destination is close; keep heading toward it."}
    assert {r.template_version for r in records} == {"lm:fake-model"}
    assert "Recommended action: " in prompts[0] and "Steps to the goal" in prompts[0]

    def leak(prompt: str) -> str:
        return "Choose " + " or ".join(f"({label})" for label in LETTER_LABELS[:6]) + "."

    leaky = expert_records(TAXI, [0], perturb_prob=0.0, writer=LMReflectionWriter(leak, "m"))
    for record in leaky:
        assert "Choose" not in record.reflection  # the template wrote it instead
