"""Tests of the headless device runtime (device_runtime)."""
