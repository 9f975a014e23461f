#!/bin/sh
# gdb_interrupt.sh: gdb attaches to a running guest (it stops), status
# on the control socket says paused, held by gdb, a debugger attached,
# and a resume from the socket is refused; gdb continues, Ctrl-C
# (interrupt) stops the running guest with SIGINT, gdb sets go and
# detaches: the guest runs to its normal end.
. "$(dirname "$0")/../lib.sh"

gdb_start --api "$T/api" -k "$GUESTS/dbg64.elf"
# gdb's interrupt in a script: posted from a thread while continue runs
# (batch mode handles no stop between -ex commands).
cat >"$T/cmds" <<'G'
python
import threading, time
def later():
    time.sleep(1)
    gdb.post_event(lambda: gdb.execute("interrupt"))
threading.Thread(target=later).start()
end
continue
p go
set var go = 1
detach
G
gdb_run -ex "shell '$KVMRUN' ctl --json '$T/api' status >'$T/status'" \
    -ex "shell '$KVMRUN' ctl '$T/api' resume >'$T/resume' 2>&1" -x "$T/cmds"
wait_bounded 20 "kvmrun after gdb detached"
grep -q '"state": *"paused"' "$T/status" || fail "status: $(cat "$T/status")"
grep -q '"held_by": *\[ *"gdb" *\]' "$T/status" || fail "held_by: $(cat "$T/status")"
grep -q '"debugger": *"attached on tcp:127.0.0.1:' "$T/status" ||
    fail "debugger: $(cat "$T/status")"
grep -q 'gdb has stopped the VM' "$T/resume" || fail "resume: $(cat "$T/resume")"
expect_gdb 'received signal SIGINT'
expect_gdb '^\$1 = 0$'
expect_gdb 'Inferior 1 \(Remote target\) detached'
expect_status 0
expect_stdout 'dbg64: counter 100'
