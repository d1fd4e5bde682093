#!/usr/bin/env bash
# The quick-start demo: a short end-to-end run on a temporary directory
# against the embedded local store. Needs `ama` on PATH (make demo does that).
set -euo pipefail

work=$(mktemp -d "${TMPDIR:-/tmp}/ama-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export AMA_HOME="$work/home"          # the embedded store lives here, not in ~
export AMA_NO_PROGRESS=1
export AMA_AUTHOR_NAME="Demo User" AMA_AUTHOR_EMAIL="demo@example.com"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

cd "$work"
mkdir genomics && cd genomics
mkdir -p reads/run1 reads/run2
for i in 1 2 3; do head -c $((200000 * i)) /dev/urandom > "reads/run1/sample$i.fastq"; done
head -c 3000000 /dev/urandom > reads/run2/big.bam
echo "sample,path" > manifest.csv

step ama init
step ama add reads manifest.csv
step ama status
step ama commit -m "first reads"

# Save the way editors do: write a new file and rename it over the old one.
{ cat manifest.csv; echo "sample1,reads/run1/sample1.fastq"; } > manifest.tmp && mv manifest.tmp manifest.csv
mv reads/run2/big.bam reads/run2/renamed.bam
step ama status
step ama stat-check || echo "(stat-check exit code $?: something differs)"
step ama add manifest.csv reads
step ama status --porcelain
step ama commit -m "manifest filled in, bam renamed"
step ama log
step ama diff genomics/1/1 genomics/1/2 || echo "(diff exit code $?: the versions differ)"
cd "$work"
step ama clone genomics/1/1 first-version
step ama -C first-version status
step ama -C first-version fsck
printf '\nDemo finished in %s (removed on exit).\n' "$work"
