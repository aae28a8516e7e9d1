#!/usr/bin/env bash
# The project's test command (`npm test`): build, the Python hook's own tests and the Ansible
# collection's, then every tap suite (unit tests, and integration tests against real Gunicorn,
# Apache + mod_wsgi, uWSGI and HAProxy).
# Ends with one line `tests: N passed, M failed` and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

npm run --silent build || { echo "tests: 0 passed, 1 failed (build)"; exit 1; }

# Both Python suites (the hook's, the Ansible module's) log into one file; their counts add up.
bash scripts/test-python.sh 2>&1 | tee "$log/python.txt"
py_status=${PIPESTATUS[0]}
bash scripts/test-ansible.sh 2>&1 | tee -a "$log/python.txt"
ansible_status=${PIPESTATUS[0]}
if [ "$py_status" = 0 ]; then py_status=$ansible_status; fi
py_total=$(grep -Eo '^Ran [0-9]+ tests?' "$log/python.txt" | awk '{s+=$2} END {print s+0}')
py_failed=$(grep -Eo '(failures|errors)=[0-9]+' "$log/python.txt" | awk -F= '{s+=$2} END {print s+0}')
py_skip=$(grep -E '^(OK|FAILED) \(' "$log/python.txt" | grep -Eo 'skipped=[0-9]+' | awk -F= '{s+=$2} END {print s+0}')
if [ "$py_status" != 0 ] && [ "$py_failed" = 0 ]; then py_failed=1; fi

npx tap "$@" 2>&1 | tee "$log/tap.txt"
tap_status=${PIPESTATUS[0]}
summary=$(grep -E '^# \{ total: ' "$log/tap.txt" | tail -n 1)
tap_total=$(sed -nE 's/.*total: ([0-9]+).*/\1/p' <<<"$summary")
tap_fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
tap_skip=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
tap_total=${tap_total:-0}; tap_fail=${tap_fail:-0}; tap_skip=${tap_skip:-0}
if [ "$tap_status" != 0 ] && [ "$tap_fail" = 0 ]; then tap_fail=1; fi

passed=$(( py_total - py_failed - py_skip + tap_total - tap_fail - tap_skip ))
failed=$(( py_failed + tap_fail ))
skipped=$(( py_skip + tap_skip ))
echo
echo "python: ${py_total} run, ${py_failed} failed, ${py_skip} skipped; tap: ${tap_total} assertions, ${tap_fail} failed, ${tap_skip} skipped"
if [ "$skipped" != 0 ]; then
  echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
else
  echo "tests: ${passed} passed, ${failed} failed"
fi
[ "$failed" = 0 ] && [ "$py_status" = 0 ] && [ "$tap_status" = 0 ]
