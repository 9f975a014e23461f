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
 * argument out of range, not malformed JSON). It is strict RFC 8259,
 * where cJSON was lax: raw control characters in strings, invalid UTF-8,
 * "\u0000" and non-JSON numbers ("01", "+1") are malformed now.
 */
#define CTL_JSON_FLAGS                                                         \
    (JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_DECODE_INT_AS_REAL)

/*
 * A walk over the members of the request's object in their order,
 * repeats included: jansson's object keeps one member a name (the last),
 * but a repeated name is refused, and the first "cmd" is the command.
 * The text was decoded whole before: it is valid JSON, so between two
 * values there is only blank space and one of '{', ':' or ','.
 */
struct ctl_walk {
    const char *p, *end;
};

/* The value at w->p (a new reference; NULL: out of memory), passed. */
static json_t *ctl_walk_value(struct ctl_walk *w)
{
    json_error_t e;
    json_t *v = json_loadb(w->p, (size_t)(w->end - w->p), CTL_JSON_FLAGS, &e);

    if (v)
        w->p += e.position;
    return v;
}

static void ctl_walk_skip(struct ctl_walk *w, const char *chars)
{
    while (w->p < w->end && *w->p && strchr(chars, *w->p))
        w->p++;
}

/* The next member's name (a new reference): 1, 0 after the last, or
 * -ENOMEM. *value (if value) gets its value, a new reference too. */
static int ctl_walk_next(struct ctl_walk *w, json_t **name, json_t **value)
{
    json_t *v;

    ctl_walk_skip(w, " \t\r\n{,");
    if (w->p >= w->end || *w->p == '}')
        return 0;
    if (!(*name = ctl_walk_value(w)))
        return err_set(ENOMEM, "out of memory reading the request");
    ctl_walk_skip(w, " \t\r\n:");
    if (!(v = ctl_walk_value(w))) {
        json_decref(*name);
        return err_set(ENOMEM, "out of memory reading the request");
    }
    if (value)
        *value = v;
    else
        json_decref(v);
    return 1;
}

/* The command named by the first "cmd" member. */
static int ctl_command(const char *line, size_t len,
                       const struct ctl_spec **spec)
{
    struct ctl_walk w = {line, line + len};
    json_t *name, *cmd = NULL;
    char q[65];
    int r = 0;

    while (!cmd && (r = ctl_walk_next(&w, &name, &cmd)) > 0) {
        if (strcmp(json_string_value(name), "cmd") != 0) {
            json_decref(cmd);
            cmd = NULL;
        }
        json_decref(name);
    }
    if (r < 0)
        return r;
    r = 0;
    if (!json_is_string(cmd))
        r = err_set(CTL_E_INVALID,
                    "a request needs \"cmd\": a command name (string)");
    else if (!(*spec = ctl_find(json_string_value(cmd))))
        r = err_set(CTL_E_UNKNOWN,
                    "unknown command \"%s\" (status, pause, resume, "
                    "stop, stats, regs, snapshot)",
                    ctl_quote(json_string_value(cmd), q, sizeof(q)));
    json_decref(cmd);
    return r;
}

/* A member named name is "cmd" or the command's argument, seen once. */
static int ctl_check_member(const char *name, const struct ctl_spec *s,
                            bool *seen_cmd, bool *seen_arg)
{
    bool *seen = strcmp(name, "cmd") == 0              ? seen_cmd
                 : s->arg && strcmp(name, s->arg) == 0 ? seen_arg
                                                       : NULL;
    char q[65];

    if (!seen)
        return err_set(CTL_E_INVALID, "%s: unknown argument \"%s\"", s->name,
                       ctl_quote(name, q, sizeof(q)));
    if (*seen)
        return err_set(CTL_E_INVALID, "%s: \"%.64s\" given twice", s->name,
                       name);
    *seen = true;
    return 0;
}

/* Every member is "cmd" or the command's argument, and none repeats. */
static int ctl_check_members(const char *line, size_t len,
                             const struct ctl_spec *s)
{
    struct ctl_walk w = {line, line + len};
    bool seen_cmd = false, seen_arg = false;
    json_t *name;
    int r = 0, more = 0;

    while (r == 0 && (more = ctl_walk_next(&w, &name, NULL)) > 0) {
        r = ctl_check_member(json_string_value(name), s, &seen_cmd, &seen_arg);
        json_decref(name);
    }
    if (r < 0 || more < 0)
        return r < 0 ? r : more;
    if (s->arg && !seen_arg)
        return err_set(CTL_E_INVALID, "%s: missing argument \"%s\"", s->name,
                       s->arg);
    return 0;
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

/* obj: the decoded line (len bytes at line). */
static int ctl_parse_object(const json_t *obj, const char *line, size_t len,
                            struct ctl_request *req)
{
    const struct ctl_spec *s;
    int r;

    if (!json_is_object(obj))
        return err_set(CTL_E_MALFORMED, "a request is one JSON object");
    if ((r = ctl_command(line, len, &s)) < 0 ||
        (r = ctl_check_members(line, len, s)) < 0)
        return r;
    req->cmd = s->cmd;
    /* Each member is there once now: jansson's object has the value. */
    if (s->cmd == CTL_REGS)
        return ctl_parse_vcpu(json_object_get(obj, "vcpu"), req);
    if (s->cmd == CTL_SNAPSHOT)
        return ctl_parse_path(json_object_get(obj, "path"), req);
    return 0;
}

int ctl_parse(const char *line, size_t len, struct ctl_request *req)
{
    json_error_t e;
    json_t *obj;
    size_t end;
    int r;

    memset(req, 0, sizeof(*req));
    if (memchr(line, 0, len))
        return err_set(CTL_E_MALFORMED, "malformed JSON: a NUL byte");
    obj = json_loadb(line, len, CTL_JSON_FLAGS, &e);
    if (!obj)
        return err_set(CTL_E_MALFORMED, "malformed JSON at byte %zu",
                       e.position >= 0 && (size_t)e.position <= len
                           ? (size_t)e.position
                           : len);
    /* With JSON_DISABLE_EOF_CHECK, position is where the value ended. */
    end = (size_t)e.position;
    while (end < len && strchr(" \t\r", line[end]))
        end++;
    if (end < len)
        r = err_set(CTL_E_MALFORMED,
                    "malformed JSON: junk after the object at byte %zu", end);
    else
        r = ctl_parse_object(obj, line, len, req);
    json_decref(obj);
    return r;
}
