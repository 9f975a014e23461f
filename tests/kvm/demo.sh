#!/bin/sh
# demo.sh: with no image, kvmrun runs its built-in guest: greeting, status 0.
. "$(dirname "$0")/../lib.sh"

run_kvmrun
expect_status 0
[ "$(head -n 1 "$OUT" | tr -d '\r')" = "Hello from the kvmrun demo guest!" ] ||
    fail "no greeting"
[ "$(wc -l <"$OUT")" -eq 3 ] || fail "expected 3 lines of greeting"
expect_stderr ""
