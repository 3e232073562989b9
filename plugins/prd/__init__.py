"""Recursive decomposition of requirements documents into a task graph, memoized per section."""
