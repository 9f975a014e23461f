#!/bin/sh
# api_protocol.sh: the control socket's protocol errors, several clients,
# a client gone mid-reply, too many clients, a refused uid (as root), the
# socket's mode and path rules (tests/kvm/api_protocol.c).
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/api_protocol"
