"""Optimizer plugins; `base` holds the whole plugin contract."""
