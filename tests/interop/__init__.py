"""Tests of reflect_gym.interop: the TRL and OpenEnv adapters."""
