#!/usr/bin/env bash
# The console's browser tests (tests/console/test_browser.py) drive a headless Chromium through
# Selenium; this makes sure Debian's chromium and its chromedriver are installed when missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
echo "installing Chromium and chromedriver from Debian's packages ..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
