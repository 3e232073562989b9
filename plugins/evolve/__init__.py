"""evolve: multi-objective island-model evolution with ask/tell studies.

The algorithms live in plain modules (`genome`, `operators`, `sorting`,
`algorithms`, `nsga3`, `cmaes`, `problems`, `hypervolume`, `engine`,
`islands`); `plugin.py` is the thin RPC face over them.
"""
