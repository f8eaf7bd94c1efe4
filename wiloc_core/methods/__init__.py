"""Localization methods: classic baselines and the papers' pipelines."""
