#!/usr/bin/env bash
# `make run`: start the daemon in the background (auto-start) and show each optimizer at work.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
for script in demo/[0-9][0-9]-*.sh; do
  bash "$script"
done
say "The daemon keeps running in the background: 'catalytic status', 'catalytic stop'."
