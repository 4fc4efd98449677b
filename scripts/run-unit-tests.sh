#!/usr/bin/env bash
# Runs every cmocka unit-test program given as an argument; prints a summary line and fails if
# any program failed (a crash counts as a failure).
set -u
passed=0 failed=0 failed_names=()
for t in "$@"; do
    if "$t"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failed_names+=("$t")
    fi
done
echo "unit test programs: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || { printf 'failed: %s\n' "${failed_names[@]}"; exit 1; }
