#!/usr/bin/env bash
# The dashboard's charts (Chart.js) come from npm: `npm ci` installs them from package-lock.json
# into node_modules/, which the static files serve. Debian's nodejs and npm are enough.
set -euo pipefail
if command -v npm >/dev/null; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian's nodejs and npm for the static files"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
else
  echo "the static files need npm: install Debian's 'nodejs' and 'npm' packages" >&2
  exit 1
fi
