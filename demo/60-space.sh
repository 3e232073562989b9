#!/usr/bin/env bash
# space: measured space of checkpointing and Tree Evaluation, and a short validation.
set -euo pipefail
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
work=$(mktemp -d)
out="$work/space.svg"
say "catalytic space checkpoint --n 100000 --strategy sqrt   (reverse 100k hash steps, ~2√n states)"
catalytic space checkpoint --n 100000 --strategy sqrt
say "catalytic space checkpoint --n 100000 --strategy revolve   (binomial schedule, ⌈log2 n⌉ slots)"
catalytic space checkpoint --n 100000 --strategy revolve
say "catalytic space tree-eval --h 4 --b 2 --algorithm classical"
catalytic space tree-eval --h 4 --b 2 --algorithm classical
say "catalytic space tree-eval --h 3 --b 2   (Cook–Mertz: registers borrowed and restored)"
catalytic space tree-eval --h 3 --b 2
say "catalytic space williams --time-blocks 3   (a toy machine simulated through Tree Evaluation)"
catalytic space williams --time-blocks 3
say "catalytic space validate --plot $out   (short sweep, fits and R² table)"
catalytic space validate --plot "$out"
