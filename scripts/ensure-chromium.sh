#!/usr/bin/env bash
# Install Debian's chromium for the dashboard test when it is missing and apt is usable.
set -u
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "installing Debian's chromium for the dashboard test (apt-get)"
  apt-get update -qq >/dev/null 2>&1 || true
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; then
    exit 0
  fi
fi
echo "WARNING: chromium is not installed and could not be installed (needs apt-get as root);"
echo "WARNING: the dashboard browser test will be SKIPPED."
exit 0
