"""Adapters that carry a ReflectRL env into the stacks where language-model agents are trained.

* :mod:`reflect_gym.interop.trl`: an env as a TRL ``GRPOTrainer(environment_factory=...)`` environment, whose
  tools act by action text or by index and whose reward is the episode's return (the ``trl`` extra).
* :mod:`reflect_gym.interop.openenv`: an env served as an OpenEnv environment (``openenv-core``): reset, step
  and state over OpenEnv's WebSocket protocol, with a typed client (the ``openenv`` extra).

Both play an episode through :class:`reflect_gym.interop.episode.Episode`, so a text action is read by
:func:`reflect_gym.wrappers.parse_action` and an invalid one is stepped by the env's own rule, as
:class:`reflect_gym.wrappers.TextActions` does. This package imports nothing itself: ``import reflect_gym`` and
``import reflect_gym.interop`` need neither extra, which each adapter module imports where it is used.
"""
