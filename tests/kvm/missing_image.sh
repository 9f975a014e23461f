#!/bin/sh
# missing_image.sh: a missing or unreadable image is a one-line error.
. "$(dirname "$0")/../lib.sh"

run_kvmrun "$T/does-not-exist.bin"
expect_status 2
expect_stderr "kvmrun: $T/does-not-exist.bin: No such file or directory"

run_kvmrun "$T"
expect_status 2
expect_stderr "kvmrun: $T: is a directory, not a regular file"

run_kvmrun "$GUESTS/hello.bin" "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: only one IMAGE may be given (got '$GUESTS/hello.bin' and '$GUESTS/hello.bin')"
