#!/usr/bin/env bash
# Builds Sightglass (release) and runs the demo: gateway + simulated backend + synthetic traffic.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sightglass
exec .build/release/sightglass demo "$@"
