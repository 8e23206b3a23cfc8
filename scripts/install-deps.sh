#!/usr/bin/env bash
# Installs the system packages Sluice builds against: GRDB links the system SQLite, the
# thumbnails of the web page are made by libvips, the XML import formats read by libxml2.
# Idempotent: does nothing when they are present.
set -euo pipefail
packages=(libsqlite3-dev libvips-dev libxml2-dev python3-venv "$@")
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    echo "installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
