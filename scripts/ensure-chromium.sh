#!/usr/bin/env bash
# Browser tests drive Debian's chromium through Playwright (never a downloaded browser build).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "Installez le paquet Debian « chromium » (apt-get install chromium) pour les tests navigateur." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
