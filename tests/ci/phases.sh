#!/usr/bin/env bash
# Runs `make <phase>` for each phase in order, stops at the first failure, and prints every phase's wall time at
# the end (also after a failure), so a slow CI run shows where its time went.
set -uo pipefail
declare -a names=() seconds=()
status=0
for phase in "$@"; do
    started=$(date +%s)
    echo "=== make ${phase} ($(date -u +%H:%M:%S) UTC)"
    make --no-print-directory "${phase}"
    status=$?
    names+=("${phase}")
    seconds+=($(( $(date +%s) - started )))
    [[ ${status} -eq 0 ]] || break
done
echo "=== phase durations"
total=0
for i in "${!names[@]}"; do
    printf '%-10s %5d s\n' "${names[$i]}" "${seconds[$i]}"
    total=$(( total + seconds[i] ))
done
printf '%-10s %5d s\n' "total" "${total}"
exit "${status}"
