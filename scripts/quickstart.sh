#!/usr/bin/env bash
# The main job: install what the build needs, build, start a server on a temporary embedded
# store, import the bundled sample (9 real COCO photographs) and stream it through the SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --product sluice
exec swift run --skip-build sluice quickstart "$@"
