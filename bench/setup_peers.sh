#!/usr/bin/env bash
# Install the tools ama is benchmarked against, idempotently.
#
#   apt:  b3sum, git-annex, time (GNU /usr/bin/time for peak memory)
#   pip:  dvc[s3], awscli  -> bench/.peers/venv (never the project venv)
#
# A peer that cannot be installed is reported as skipped with the reason;
# bench/run.py then reports its rows as "skipped", never as a made-up number.
# Exit status is 0 even when peers are skipped: a partial comparison is still
# a comparison.  Set AMA_BENCH_NO_APT=1 to leave system packages alone.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peers="$here/.peers"
venv="$peers/venv"
mkdir -p "$peers"
status_file="$peers/status.txt"
: >"$status_file"

note() { # note STATE NAME WHY
    printf '%-9s %-10s %s\n' "$1" "$2" "$3" | tee -a "$status_file"
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

# --- system packages --------------------------------------------------------
apt_missing=()
for pair in b3sum:b3sum git-annex:git-annex time:/usr/bin/time; do
    pkg="${pair%%:*}" cmd="${pair#*:}"
    if command -v "$cmd" >/dev/null 2>&1; then
        note present "$pkg" "$(command -v "$cmd")"
    else
        apt_missing+=("$pkg")
    fi
done

if [ "${#apt_missing[@]}" -gt 0 ]; then
    if [ -n "${AMA_BENCH_NO_APT:-}" ]; then
        for pkg in "${apt_missing[@]}"; do note skipped "$pkg" "AMA_BENCH_NO_APT is set"; done
    elif ! command -v apt-get >/dev/null 2>&1; then
        for pkg in "${apt_missing[@]}"; do note skipped "$pkg" "no apt-get on this system"; done
    else
        log="$peers/apt.log"
        as_root apt-get update >"$log" 2>&1 || true
        for pkg in "${apt_missing[@]}"; do
            if DEBIAN_FRONTEND=noninteractive as_root apt-get install -y --no-install-recommends "$pkg" >>"$log" 2>&1; then
                note installed "$pkg" "apt"
            else
                note skipped "$pkg" "apt-get install failed: $(tail -n 1 "$log")"
            fi
        done
    fi
fi

# --- python peers in their own venv -----------------------------------------
python="${AMA_BENCH_PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    if ! "$python" -m venv "$venv" >"$peers/venv.log" 2>&1; then
        note skipped dvc "cannot create $venv: $(tail -n 1 "$peers/venv.log")"
        note skipped awscli "cannot create $venv"
        exit 0
    fi
fi

pip_peer() { # pip_peer NAME SPEC CHECK-CMD...
    local name="$1" spec="$2"
    shift 2
    if "$@" >/dev/null 2>&1; then
        note present "$name" "$("$@" 2>&1 | head -n 1)"
        return
    fi
    local log="$peers/pip-$name.log"
    if "$venv/bin/python" -m pip install --disable-pip-version-check -q "$spec" >"$log" 2>&1 && "$@" >/dev/null 2>&1; then
        note installed "$name" "$("$@" 2>&1 | head -n 1)"
    else
        note skipped "$name" "pip install '$spec' failed: $(grep -m1 -i error "$log" || tail -n 1 "$log")"
    fi
}

pip_peer awscli awscli "$venv/bin/aws" --version
pip_peer dvc 'dvc[s3]' "$venv/bin/dvc" --version

echo "peer status written to $status_file"
