#!/usr/bin/env bash
# Runs every test: Swift unit and integration tests, then the script tests that drive the real
# binary with the official openai and ollama clients, FakeAI, promtool and a real Prometheus,
# against SQLite and a temporary PostgreSQL 15.
# Installs what they need on a fresh machine (Debian's prometheus, a local Python virtualenv).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== swift format lint"
# The committed .swift-format is the style; `swift format format -i -r Sources Tests bench/Micro Package.swift` applies it.
swift format lint --strict -r Sources Tests bench/Micro Package.swift

echo "== swift build"
swift build

# A throwaway PostgreSQL 15 (initdb + pg_ctl on a free loopback port): the store tests run
# against it as well as SQLite, and the script tests run gateways on it. Stopped on exit.
echo "== postgresql (temporary)"
PG_DIR="$(mktemp -d /tmp/sightglass-test-pg.XXXXXX)"
chmod 755 "$PG_DIR"
trap 'scripts/postgres.sh stop "$PG_DIR/cluster"; rmdir "$PG_DIR" 2>/dev/null || true' EXIT
SIGHTGLASS_TEST_POSTGRES="$(scripts/postgres.sh start "$PG_DIR/cluster")"
export SIGHTGLASS_TEST_POSTGRES
echo "   $SIGHTGLASS_TEST_POSTGRES"

echo "== swift test"
swift test 2>&1 | tee .swift-test.log | grep -vE '^(◇|↳)|started\.$' || true
if ! grep -qE "Test run with [0-9]+ tests? .*passed" .swift-test.log || grep -qE "Test run with .* failed|error: fatalError|Fatal error" .swift-test.log; then
  echo "swift test failed"; exit 1
fi

if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
  echo "== installing prometheus (Debian package)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus >/dev/null
fi
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "== installing chromium and chromium-driver (Debian packages, for the browser tests)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
# Debian starts a prometheus service on install; the tests run their own on free ports.
if command -v systemctl >/dev/null; then systemctl stop prometheus >/dev/null 2>&1 || true; fi

echo "== python virtualenv (.venv)"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install -q --disable-pip-version-check -r tests/python/requirements.txt

echo "== script tests"
SIGHTGLASS_BIN="$PWD/.build/debug/sightglass" .venv/bin/python -m pytest tests/python -q -p no:cacheprovider
