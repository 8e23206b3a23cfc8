#!/usr/bin/env bash
# Fuzzes the query parser, the JSON reader and the COCO importer with libFuzzer, each for
# SECONDS (default 120), from the fixtures as seeds. A crash leaves its input in
# Fuzz/crashes/<target>/; make it a regression test, then fix it.
#
#   bash scripts/fuzz.sh 300
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}"
swift build -c release --package-path Fuzz --scratch-path Fuzz/.build \
    -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
bin="$(swift build -c release --package-path Fuzz --scratch-path Fuzz/.build --show-bin-path)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/query" "$work/json" "$work/coco"
# Seeds: the query strings of the query and slice tests, every JSON fixture, the COCO fixtures.
grep -ohE '"(labels|file|attribute|dataset|not |\()[^"]{2,200}"' Tests/SluiceQueryTests/*.swift Tests/SluiceServerTests/SliceTests.swift \
    | sed 's/^"//; s/"$//' | sort -u | split -l 1 - "$work/query/seed-"
find Tests/Fixtures -name '*.json' -size -1000k -exec cp {} "$work/json/" \; 2>/dev/null || true
find Tests/Fixtures/coco -name '*.json' -size -1000k -exec cp {} "$work/coco/" \; 2>/dev/null || true
# And small valid COCO files, which mutations keep valid long enough to reach the importer.
for n in 1 3 8; do
    "$(swift build --show-bin-path)/sluice" generate --files "$n" --instances-per-file 2 --labels 2 --out "$work/gen-$n" >/dev/null 2>&1 \
        && cp "$work/gen-$n/annotations.json" "$work/coco/generated-$n.json" || true
done

failed=0
for target in FuzzQuery:query:4096 FuzzJSONReader:json:1048576 FuzzCOCOImport:coco:1048576; do
    name="${target%%:*}"; rest="${target#*:}"; corpus="$work/${rest%%:*}"; max_len="${rest#*:}"
    mkdir -p "Fuzz/crashes/$name"
    echo "== $name for $seconds s" >&2
    if ! "$bin/$name" "$corpus" -max_total_time="$seconds" -max_len="$max_len" -timeout=20 \
        -artifact_prefix="Fuzz/crashes/$name/" -print_final_stats=1 2> "$work/$name.log"; then
        failed=1
        tail -30 "$work/$name.log" >&2
    else
        grep -E "stat::number_of_executed_units|cov:" "$work/$name.log" | tail -2 >&2
    fi
done
exit "$failed"
