"""Env speed benchmarks (``reflect-rl speed taxi|fileqa|babyai|alfworld``): steps and resets per second, and the
expert's success, each module with ``main(argv) -> int``. The LM deciders' speed is :mod:`reflect_agent.speed`.
Figures measured on one machine belong in ``docs/speed.md``, not here."""
