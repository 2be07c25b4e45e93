#!/usr/bin/env bash
# Runs `make <phase>` for each step in order and prints every phase's wall time at the end (also after a failure),
# so a slow run shows where its time went. A step "a+b" runs phases a and b at the same time (each with its own
# log, printed when it ends): most of our tests wait on stand-ins and controllers rather than compute, so two
# lanes use the two cores better than one. The first failing step stops the run.
set -uo pipefail
logs="$(mktemp -d)"
trap 'rm -rf "${logs}"' EXIT
declare -a names=() seconds=() results=()
status=0

run_phase() {  # phase -> writes its duration and exit code beside its log
    local phase="$1" started
    started=$(date +%s)
    make --no-print-directory "${phase}" > "${logs}/${phase}.log" 2>&1
    echo $? > "${logs}/${phase}.rc"
    echo $(( $(date +%s) - started )) > "${logs}/${phase}.seconds"
}

for step in "$@"; do
    IFS='+' read -r -a phases <<< "${step}"
    echo "=== make ${phases[*]} (started $(date -u +%H:%M:%S) UTC)"
    for phase in "${phases[@]}"; do
        run_phase "${phase}" &
    done
    wait
    for phase in "${phases[@]}"; do
        echo "--- make ${phase}: output"
        cat "${logs}/${phase}.log"
        names+=("${phase}")
        seconds+=("$(cat "${logs}/${phase}.seconds")")
        rc="$(cat "${logs}/${phase}.rc")"
        results+=("$([[ ${rc} -eq 0 ]] && echo ok || echo "FAILED (exit ${rc})")")
        [[ ${rc} -eq 0 ]] || status=${rc}
    done
    [[ ${status} -eq 0 ]] || break
done
echo "=== phase durations (a+b steps ran side by side)"
for i in "${!names[@]}"; do
    printf '%-12s %5d s  %s\n' "${names[$i]}" "${seconds[$i]}" "${results[$i]}"
done
exit "${status}"
