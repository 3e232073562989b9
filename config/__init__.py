"""Settings: declared once (model), loaded from TOML/env/flags (load), paths."""
