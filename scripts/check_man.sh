#!/usr/bin/env bash
# Fail when man/ differs from what scripts/make_man.py generates now
# (a command's options or text changed without 'make man').
set -euo pipefail
cd "$(dirname "$0")/.."

python=.venv/bin/python
[ -x "$python" ] || python=python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ama-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$python" scripts/make_man.py "$tmp/man"
if ! diff -r man "$tmp/man" >"$tmp/diff" 2>&1; then
    [ -n "${VERBOSE:-}" ] && cat "$tmp/diff" >&2
    echo "man/ is stale: run 'make man'" >&2
    exit 1
fi
