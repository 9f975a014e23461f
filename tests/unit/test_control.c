/* test_control.c: unit tests of the control socket's request parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "control.h"
#include "kvmrun.h"

/* Parses the C string text. */
static int parse(const char *text, struct ctl_request *req)
{
    return ctl_parse(text, strlen(text), req);
}

struct bad {
    const char *text;
    int code;         /* negative CTL_E_* expected */
    const char *says; /* a part of the message */
};

static void check_bad(const struct bad *b)
{
    struct ctl_request req;
    int r = parse(b->text, &req);

    if (r != b->code)
        fail_msg("%s: got %d (%s), not %d", b->text, r, kvmrun_last_error(),
                 b->code);
    if (!strstr(kvmrun_last_error(), b->says))
        fail_msg("%s: error \"%s\" does not say \"%s\"", b->text,
                 kvmrun_last_error(), b->says);
    if (strchr(kvmrun_last_error(), '\n'))
        fail_msg("%s: error \"%s\" is not one line", b->text,
                 kvmrun_last_error());
}

static void test_commands(void **state)
{
    static const struct {
        const char *text;
        enum ctl_cmd cmd;
        const char *name;
    } good[] = {
        {"{\"cmd\":\"status\"}", CTL_STATUS, "status"},
        {"{\"cmd\": \"pause\"}", CTL_PAUSE, "pause"},
        {" {\"cmd\":\"resume\"} ", CTL_RESUME, "resume"},
        {"{\"cmd\":\"stop\"}\r", CTL_STOP, "stop"},
        {"{\n\"cmd\"\t:\"stats\"}", CTL_STATS, "stats"},
    };
    struct ctl_request req;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
        if (parse(good[i].text, &req) != 0)
            fail_msg("%s: %s", good[i].text, kvmrun_last_error());
        assert_int_equal(req.cmd, good[i].cmd);
        assert_string_equal(ctl_cmd_name(req.cmd), good[i].name);
    }
}

static void test_regs(void **state)
{
    struct ctl_request req;

    (void)state;
    assert_int_equal(parse("{\"cmd\":\"regs\",\"vcpu\":0}", &req), 0);
    assert_int_equal(req.cmd, CTL_REGS);
    assert_int_equal(req.vcpu, 0);
    assert_int_equal(parse("{\"vcpu\":3,\"cmd\":\"regs\"}", &req), 0);
    assert_int_equal(req.vcpu, 3);
    assert_int_equal(parse("{\"cmd\":\"regs\",\"vcpu\":4096}", &req), 0);
    assert_int_equal(req.vcpu, 4096);
}

static void test_snapshot(void **state)
{
    struct ctl_request req;

    (void)state;
    assert_int_equal(
        parse("{\"cmd\":\"snapshot\",\"path\":\"/tmp/vm.snap\"}", &req), 0);
    assert_int_equal(req.cmd, CTL_SNAPSHOT);
    assert_string_equal(req.path, "/tmp/vm.snap");
}

static void test_malformed(void **state)
{
    static const struct bad bad[] = {
        {"", -CTL_E_MALFORMED, "malformed JSON"},
        {"{", -CTL_E_MALFORMED, "malformed JSON at byte"},
        {"{\"cmd\":\"status\"", -CTL_E_MALFORMED, "malformed JSON"},
        {"cmd=status", -CTL_E_MALFORMED, "malformed JSON"},
        {"{\"cmd\":\"status\"} {}", -CTL_E_MALFORMED, "junk after the object"},
        {"{\"cmd\":\"status\"}x", -CTL_E_MALFORMED, "junk"},
        {"[\"status\"]", -CTL_E_MALFORMED, "one JSON object"},
        {"\"status\"", -CTL_E_MALFORMED, "one JSON object"},
        {"42", -CTL_E_MALFORMED, "one JSON object"},
        {"null", -CTL_E_MALFORMED, "one JSON object"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        check_bad(&bad[i]);
}

/* Strict JSON (RFC 8259): what a lax parser would take is malformed. */
static void test_strict(void **state)
{
    static const struct bad bad[] = {
        {"{\"cmd\":\"re\nsume\"}", -CTL_E_MALFORMED, "malformed JSON at byte"},
        {"{\"cmd\":\"stop\",\"\t\":1}", -CTL_E_MALFORMED, "malformed JSON"},
        {"{\"cmd\":\"status\\u0000x\"}", -CTL_E_MALFORMED, "malformed JSON"},
        {"{\"cmd\":\"st\\u00tus\"}", -CTL_E_MALFORMED, "malformed JSON"},
        {"{\"cmd\":\"st\xc3tus\"}", -CTL_E_MALFORMED, "malformed JSON"},
        {"{\"cmd\":\"regs\",\"vcpu\":01}", -CTL_E_MALFORMED, "malformed JSON"},
        {"{\"cmd\":\"regs\",\"vcpu\":1.}", -CTL_E_MALFORMED, "malformed JSON"},
        /* Too big for an integer type, a number still: out of range. */
        {"{\"cmd\":\"regs\",\"vcpu\":99999999999999999999}", -CTL_E_INVALID,
         "vCPU index"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        check_bad(&bad[i]);
}

/* A long name is cut at 64 bytes between characters: replies are UTF-8. */
static void test_quote_utf8(void **state)
{
    char text[128] = "{\"cmd\":\"a", want[128] = "unknown command \"a";
    struct ctl_request req;

    (void)state;
    for (int i = 0; i < 40; i++)
        strcat(text, "\xc3\xa9"); /* e acute */
    strcat(text, "\"}");
    for (int i = 0; i < 31; i++) /* 1 + 31 * 2 bytes: one more is 65 */
        strcat(want, "\xc3\xa9");
    strcat(want, "\" (");
    assert_int_equal(parse(text, &req), -CTL_E_UNKNOWN);
    assert_non_null(strstr(kvmrun_last_error(), want));
}

static void test_nul_byte(void **state)
{
    static const char text[] = "{\"cmd\":\"status\"}\0junk";
    struct ctl_request req;

    (void)state;
    assert_int_equal(ctl_parse(text, sizeof(text) - 1, &req), -CTL_E_MALFORMED);
    assert_non_null(strstr(kvmrun_last_error(), "NUL"));
    /* Only len bytes are read: the same object, cut before the NUL. */
    assert_int_equal(ctl_parse(text, 16, &req), 0);
}

static void test_bad_requests(void **state)
{
    static const struct bad bad[] = {
        {"{}", -CTL_E_INVALID, "needs \"cmd\""},
        {"{\"cmd\":7}", -CTL_E_INVALID, "needs \"cmd\""},
        {"{\"command\":\"status\"}", -CTL_E_INVALID, "needs \"cmd\""},
        {"{\"cmd\":\"reboot\"}", -CTL_E_UNKNOWN, "unknown command \"reboot\""},
        {"{\"cmd\":\"STATUS\"}", -CTL_E_UNKNOWN, "unknown command"},
        {"{\"cmd\":\"\"}", -CTL_E_UNKNOWN, "unknown command \"\""},
        /* Names from the request stay on one line (found by fuzzing). */
        {"{\"cmd\":\"re\\nsume\"}", -CTL_E_UNKNOWN, "\"re?sume\""},
        {"{\"cmd\":\"stop\",\"\\u0001\\t\":1}", -CTL_E_INVALID,
         "unknown argument \"??\""},
        {"{\"cmd\":\"status\",\"x\":1}", -CTL_E_INVALID,
         "status: unknown argument \"x\""},
        {"{\"cmd\":\"pause\",\"vcpu\":0}", -CTL_E_INVALID,
         "unknown argument \"vcpu\""},
        {"{\"cmd\":\"status\",\"cmd\":\"stop\"}", -CTL_E_INVALID,
         "\"cmd\" given twice"},
        /* The first "cmd" is the command; members are checked in order. */
        {"{\"cmd\":\"bogus\",\"cmd\":\"status\"}", -CTL_E_UNKNOWN,
         "unknown command \"bogus\""},
        {"{\"cmd\":7,\"cmd\":\"status\"}", -CTL_E_INVALID, "needs \"cmd\""},
        {"{\"cmd\":\"status\",\"x\":1,\"cmd\":\"stop\"}", -CTL_E_INVALID,
         "unknown argument \"x\""},
        {"{\"cmd\":\"regs\",\"vcpu\":\"x\",\"vcpu\":1}", -CTL_E_INVALID,
         "regs: \"vcpu\" given twice"},
        {"{\"cmd\":\"regs\"}", -CTL_E_INVALID, "missing argument \"vcpu\""},
        {"{\"cmd\":\"regs\",\"vcpu\":-1}", -CTL_E_INVALID, "vCPU index"},
        {"{\"cmd\":\"regs\",\"vcpu\":1.5}", -CTL_E_INVALID, "vCPU index"},
        {"{\"cmd\":\"regs\",\"vcpu\":\"0\"}", -CTL_E_INVALID, "vCPU index"},
        {"{\"cmd\":\"regs\",\"vcpu\":1e300}", -CTL_E_INVALID, "vCPU index"},
        {"{\"cmd\":\"regs\",\"vcpu\":4097}", -CTL_E_INVALID, "vCPU index"},
        {"{\"cmd\":\"regs\",\"vcpu\":0,\"vcpu\":1}", -CTL_E_INVALID,
         "given twice"},
        {"{\"cmd\":\"snapshot\"}", -CTL_E_INVALID, "missing argument \"path\""},
        {"{\"cmd\":\"snapshot\",\"path\":\"\"}", -CTL_E_INVALID,
         "non-empty string"},
        {"{\"cmd\":\"snapshot\",\"path\":5}", -CTL_E_INVALID,
         "non-empty string"},
        {"{\"cmd\":\"snapshot\",\"path\":\"vm.snap\"}", -CTL_E_INVALID,
         "must be absolute"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        check_bad(&bad[i]);
}

static void test_long_path(void **state)
{
    static char text[PATH_MAX + 64];
    struct ctl_request req;
    int n = snprintf(text, sizeof(text), "{\"cmd\":\"snapshot\",\"path\":\"/");

    (void)state;
    /* "/" and PATH_MAX - 1 more bytes: no room for the NUL. */
    memset(text + n, 'a', PATH_MAX - 1);
    strcpy(text + n + PATH_MAX - 1, "\"}");
    assert_int_equal(parse(text, &req), -CTL_E_INVALID);
    assert_non_null(strstr(kvmrun_last_error(), "longer than"));
    /* One byte shorter fits, with its NUL. */
    memmove(text + n + PATH_MAX - 2, text + n + PATH_MAX - 1, 3);
    assert_int_equal(parse(text, &req), 0);
    assert_int_equal(strlen(req.path), PATH_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),   cmocka_unit_test(test_regs),
        cmocka_unit_test(test_snapshot),   cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_nul_byte),   cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_long_path),  cmocka_unit_test(test_strict),
        cmocka_unit_test(test_quote_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
