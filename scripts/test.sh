#!/usr/bin/env bash
# The test command: installs what the tests need (apt packages, pinned pip packages in a
# local virtual environment) and runs every suite: `swift test`, then the Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

# Beyond the build's packages: Chromium, which Playwright drives for the web page's tests;
# nginx and PostgreSQL, for the scale-out tests.
bash scripts/install-deps.sh chromium nginx postgresql ffmpeg

# A throwaway PostgreSQL cluster: the store suites run against it as well as SQLite, and
# must (SLUICE_REQUIRE_POSTGRES makes a missing cluster a failure, not a skip).
eval "$(bash scripts/postgres.sh start)"
trap 'bash scripts/postgres.sh stop "$SLUICE_PG_DIR"' EXIT
export SLUICE_REQUIRE_POSTGRES=1

echo "== swift build" >&2
swift build --build-tests
echo "== swift test" >&2
swift test --skip-build
echo "== documentation (DocC, warnings are errors)" >&2
swift package generate-documentation --target Sluice --warnings-as-errors

echo "== python tests" >&2
python3 -m venv .venv
# torch==2.13.0+cpu is a local wheel; everything else comes from PyPI at the pinned versions.
.venv/bin/pip install -q --find-links /opt/wheels -c tests/python/constraints.txt \
    -r tests/python/requirements.txt ./python
.venv/bin/pip install -q --no-deps -r tests/python/requirements-nodeps.txt
SLUICE_BIN="$(swift build --show-bin-path)/sluice" .venv/bin/python -m pytest -q tests/python

echo "all suites passed in $(( $(date +%s) - started )) s" >&2
