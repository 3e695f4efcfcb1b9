# lib.sh: shared by the end-to-end shell tests: a scratch folder removed at exit, pass/fail
# counters, and the closing "N passed, N failed" line with the exit status.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
