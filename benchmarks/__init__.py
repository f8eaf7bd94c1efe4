"""Benchmarks: each module exposes ``run() -> {name: {"value": v, "unit": u}}``."""
