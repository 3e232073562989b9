"""Autotune: evolve the daemon's own knobs against a recorded workload replayed through a model.

`workload` reads or synthesizes call logs, `model` replays one through a cost
model of the daemon parameterized by the knobs, `metrics` turns the replay into
seven normalized metrics and the autonomy score, `tuner` runs the search.
"""
