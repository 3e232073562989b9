"""The catalytic workspace: a tiered, compressed, content-addressed cache."""
