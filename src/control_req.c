/* control_req.c: parses and validates one control-socket request line. */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "error.h"

/* A command, and the members its request may have besides "cmd". */
struct ctl_spec {
    const char *name;
    enum ctl_cmd cmd;
    const char *arg; /* the one argument it takes, or NULL */
};

static const struct ctl_spec ctl_specs[] = {
    {"status", CTL_STATUS, NULL},       {"pause", CTL_PAUSE, NULL},
    {"resume", CTL_RESUME, NULL},       {"stop", CTL_STOP, NULL},
    {"stats", CTL_STATS, NULL},         {"regs", CTL_REGS, "vcpu"},
    {"snapshot", CTL_SNAPSHOT, "path"},
};

#define CTL_NSPECS (sizeof(ctl_specs) / sizeof(*ctl_specs))

const char *ctl_cmd_name(enum ctl_cmd cmd)
{
    for (size_t i = 0; i < CTL_NSPECS; i++)
        if (ctl_specs[i].cmd == cmd)
            return ctl_specs[i].name;
    return "?";
}

static const struct ctl_spec *ctl_find(const char *name)
{
    for (size_t i = 0; i < CTL_NSPECS; i++)
        if (strcmp(ctl_specs[i].name, name) == 0)
            return &ctl_specs[i];
    return NULL;
}

/* A name from the request, fit for a one-line message: at most 64 bytes,
 * cut between characters (a reply is UTF-8), control characters as '?'. */
static const char *ctl_quote(const char *name, char *buf, size_t size)
{
    size_t i;

    for (i = 0; name[i] && i + 1 < size; i++)
        buf[i] =
            (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
    while (i > 0 && ((unsigned char)name[i] & 0xc0) == 0x80)
        i--; /* name[i] continues a character: drop all of it */
    buf[i] = 0;
    return buf;
}

/*
 * jansson's decoder: any value (a non-object is refused with its own
 * message), stopping after it (junk after it has its own message too),
 * numbers as doubles (an integer too big for json_int_t is then an
 * argument out of range, not malformed JSON). It is strict RFC 8259:
 * raw control characters in strings, invalid UTF-8, "\u0000" and
 * non-JSON numbers ("01", "+1") are malformed. A repeated member name is
 * its error too (JSON_REJECT_DUPLICATES), at any depth.
 */
#define CTL_JSON_FLAGS                                                         \
    (JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_DECODE_INT_AS_REAL)
#define CTL_JSON_STRICT (CTL_JSON_FLAGS | JSON_REJECT_DUPLICATES)

/* The command named by "cmd". */
static int ctl_command(const json_t *obj, const struct ctl_spec **spec)
{
    const json_t *cmd = json_object_get(obj, "cmd");
    char q[65];

    if (!json_is_string(cmd))
        return err_set(CTL_E_INVALID,
                       "a request needs \"cmd\": a command name (string)");
    if (!(*spec = ctl_find(json_string_value(cmd))))
        return err_set(CTL_E_UNKNOWN,
                       "unknown command \"%s\" (status, pause, resume, "
                       "stop, stats, regs, snapshot)",
                       ctl_quote(json_string_value(cmd), q, sizeof(q)));
    return 0;
}

/* Every member is "cmd" or the command's argument, in their order. */
static int ctl_check_members(const json_t *obj, const struct ctl_spec *s)
{
    const char *name;
    json_t *value;
    char q[65];

    json_object_foreach((json_t *)obj, name, value)
    {
        if (strcmp(name, "cmd") != 0 && (!s->arg || strcmp(name, s->arg) != 0))
            return err_set(CTL_E_INVALID, "%s: unknown argument \"%s\"",
                           s->name, ctl_quote(name, q, sizeof(q)));
    }
    return 0;
}

/*
 * Where the member name that ends before end (jansson's position for a
 * repeated one: past its closing quote) starts: its opening quote, the
 * nearest one before that not escaped (inside a JSON string every quote
 * is preceded by an odd number of backslashes). 0 if there is none.
 */
static size_t ctl_name_start(const char *line, size_t end)
{
    for (size_t i = end - 1; i-- > 0;) {
        size_t slashes = 0;

        while (slashes < i && line[i - 1 - slashes] == '\\')
            slashes++;
        if (line[i] == '"' && slashes % 2 == 0)
            return i;
    }
    return 0;
}

/* The members before the repeated name at [at, ...): the text up to it,
 * less its comma, closed; NULL when the repeat is inside a value. */
static json_t *ctl_members_before(const char *line, size_t at)
{
    json_error_t e;
    json_t *obj = NULL;
    size_t k = at;
    char *text;

    while (k > 0 && strchr(" \t\r\n", line[k - 1]))
        k--;
    if (k == 0 || line[k - 1] != ',' || !(text = malloc(k)))
        return NULL;
    memcpy(text, line, k - 1);
    text[k - 1] = '}';
    obj = json_loadb(text, k, CTL_JSON_STRICT, &e);
    free(text);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/*
 * A request with a repeated member (valid JSON otherwise): the members
 * before the repeat are checked as any request's, in their order (the
 * first "cmd" names the command), then the repeat is refused by name.
 */
static int ctl_repeated(const char *line, size_t end)
{
    size_t at = end > 1 && line[end - 1] == '"' ? ctl_name_start(line, end) : 0;
    json_t *name =
        at ? json_loadb(line + at, end - at, JSON_DECODE_ANY, NULL) : NULL;
    json_t *before = at ? ctl_members_before(line, at) : NULL;
    const char *n = json_is_string(name) ? json_string_value(name) : "?";
    const struct ctl_spec *s;
    char q[65];
    int r;

    if (!before)
        r = err_set(CTL_E_INVALID, "\"%s\" given twice",
                    ctl_quote(n, q, sizeof(q)));
    else if ((r = ctl_command(before, &s)) == 0 &&
             (r = ctl_check_members(before, s)) == 0)
        r = err_set(CTL_E_INVALID, "%s: \"%s\" given twice", s->name,
                    ctl_quote(n, q, sizeof(q)));
    json_decref(name);
    json_decref(before);
    return r;
}

static int ctl_parse_vcpu(const json_t *v, struct ctl_request *req)
{
    double d = json_is_number(v) ? json_number_value(v) : -1;

    if (!(d >= 0 && d <= 4096) || (double)(unsigned)d != d)
        return err_set(CTL_E_INVALID, "regs: \"vcpu\" must be a vCPU index "
                                      "(an integer from 0)");
    req->vcpu = (unsigned)d;
    return 0;
}

static int ctl_parse_path(const json_t *v, struct ctl_request *req)
{
    const char *p = json_string_value(v); /* NULL unless a string */

    if (!p || !p[0])
        return err_set(CTL_E_INVALID,
                       "snapshot: \"path\" must be a non-empty string");
    if (p[0] != '/')
        return err_set(CTL_E_INVALID,
                       "snapshot: \"path\" must be absolute "
                       "(the server's working directory is not yours)");
    if (strlen(p) >= sizeof(req->path))
        return err_set(CTL_E_INVALID, "snapshot: \"path\" is longer than %zu",
                       sizeof(req->path) - 1);
    memcpy(req->path, p, strlen(p) + 1);
    return 0;
}

static int ctl_parse_object(const json_t *obj, struct ctl_request *req)
{
    const struct ctl_spec *s;
    int r;

    if ((r = ctl_command(obj, &s)) < 0 || (r = ctl_check_members(obj, s)) < 0)
        return r;
    if (s->arg && !json_object_get(obj, s->arg))
        return err_set(CTL_E_INVALID, "%s: missing argument \"%s\"", s->name,
                       s->arg);
    req->cmd = s->cmd;
    if (s->cmd == CTL_REGS)
        return ctl_parse_vcpu(json_object_get(obj, "vcpu"), req);
    if (s->cmd == CTL_SNAPSHOT)
        return ctl_parse_path(json_object_get(obj, "path"), req);
    return 0;
}

/* The line, decoded to obj (NULL: e says why): one JSON object with
 * nothing but blanks after it, or the error. */
static int ctl_check_text(const json_t *obj, const char *line, size_t len,
                          const json_error_t *e)
{
    size_t end;

    if (!obj)
        return err_set(CTL_E_MALFORMED, "malformed JSON at byte %zu",
                       e->position >= 0 && (size_t)e->position <= len
                           ? (size_t)e->position
                           : len);
    /* With JSON_DISABLE_EOF_CHECK, position is where the value ended. */
    end = (size_t)e->position;
    while (end < len && strchr(" \t\r", line[end]))
        end++;
    if (end < len)
        return err_set(CTL_E_MALFORMED,
                       "malformed JSON: junk after the object at byte %zu",
                       end);
    if (!json_is_object(obj))
        return err_set(CTL_E_MALFORMED, "a request is one JSON object");
    return 0;
}

int ctl_parse(const char *line, size_t len, struct ctl_request *req)
{
    json_error_t e;
    json_t *obj;
    size_t repeat = 0;
    int r;

    memset(req, 0, sizeof(*req));
    if (memchr(line, 0, len))
        return err_set(CTL_E_MALFORMED, "malformed JSON: a NUL byte");
    obj = json_loadb(line, len, CTL_JSON_STRICT, &e);
    if (!obj && json_error_code(&e) == json_error_duplicate_key) {
        /* Refused once the rest is known to be one JSON object. */
        repeat = (size_t)e.position;
        obj = json_loadb(line, len, CTL_JSON_FLAGS, &e);
    }
    if ((r = ctl_check_text(obj, line, len, &e)) == 0)
        r = repeat ? ctl_repeated(line, repeat) : ctl_parse_object(obj, req);
    json_decref(obj);
    return r;
}
