#!/usr/bin/env bash
# The daemon: start it, shake hands, list plugins, show stats.
set -euo pipefail
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say "catalytic start (a daemon on $(python -c 'from catalytic.config.paths import socket_path; print(socket_path())'))"
catalytic start
say "catalytic status"
catalytic status
say "catalytic plugins"
catalytic plugins || true
say "catalytic ping -c 1000 (round trips over the Unix socket)"
catalytic ping -c 1000
say "catalytic stats"
catalytic stats
