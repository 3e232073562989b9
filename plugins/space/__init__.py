"""The `space` plugin: algorithms that trade time for space, with an explicit space ledger.

Checkpointed reversal of step chains (store-all, √n, bisection, binomial revolve),
Tree Evaluation (classical depth-first and Cook–Mertz), a toy end-to-end Williams
simulation, and the validation that fits measured peaks to candidate curves. The
modules know nothing of RPC; `plugin.py` is the thin RPC face.
"""
