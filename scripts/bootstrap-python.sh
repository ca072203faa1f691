#!/usr/bin/env bash
# Create the project's virtualenv. Debian's python3 ships venv separately (python3-venv).
set -euo pipefail
python="${1:-python3}"
venv="${2:-.venv}"
if [ -x "$venv/bin/python" ]; then exit 0; fi
if ! "$python" -m venv --help >/dev/null 2>&1 || ! "$python" -c "import ensurepip" >/dev/null 2>&1; then
  echo "installing python3-venv (Debian) ..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
"$python" -m venv "$venv"
