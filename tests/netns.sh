# tests/netns.sh: sourced first by the tests that make taps, bridges and
# addresses: it runs the test again in a network namespace of its own
# (unshare -n), so that nothing it makes or sends is seen outside, and all
# of it goes with the test. Skips (77) where unshare -n is refused.
if [ -z "${KVMRUN_NETNS:-}" ]; then
    if ! unshare -n true 2>/dev/null; then
        echo "skip: no network namespace (unshare -n)"
        exit 77
    fi
    KVMRUN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
