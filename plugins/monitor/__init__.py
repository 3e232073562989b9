"""monitor: process and per-method metrics, history, baselines, spans, profiling, dashboard."""
