#!/usr/bin/env bash
# The FranceConnect tests run against node's oidc-provider, pinned in the lock file under
# cartable/franceconnect/tests/provider/. Installed with `npm ci` from that lock file, and only
# when node_modules is missing or older than the lock file (not at every test run).
set -euo pipefail
cd "$(dirname "$0")/../cartable/franceconnect/tests/provider"
stamp=node_modules/.package-lock.json  # written by npm ci: same content as the lock it installed
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ -d node_modules/oidc-provider ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "Installez node (20 ou plus) et npm pour les tests FranceConnect (apt-get install nodejs npm)." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
