/* control_req.c: parses and validates one control-socket request line. */
#include <cjson/cJSON.h>
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
 * control characters as '?'. */
static const char *ctl_quote(const char *name, char *buf, size_t size)
{
    size_t i;

    for (i = 0; name[i] && i + 1 < size; i++)
        buf[i] =
            (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
    buf[i] = 0;
    return buf;
}

/* Every member is "cmd" or the command's argument, and none repeats. */
static int ctl_check_members(const cJSON *obj, const struct ctl_spec *s)
{
    bool seen_cmd = false, seen_arg = false;
    char q[65];

    for (const cJSON *m = obj->child; m; m = m->next) {
        bool *seen = strcmp(m->string, "cmd") == 0              ? &seen_cmd
                     : s->arg && strcmp(m->string, s->arg) == 0 ? &seen_arg
                                                                : NULL;
        if (!seen)
            return err_set(CTL_E_INVALID, "%s: unknown argument \"%s\"",
                           s->name, ctl_quote(m->string, q, sizeof(q)));
        if (*seen)
            return err_set(CTL_E_INVALID, "%s: \"%.64s\" given twice", s->name,
                           m->string);
        *seen = true;
    }
    if (s->arg && !seen_arg)
        return err_set(CTL_E_INVALID, "%s: missing argument \"%s\"", s->name,
                       s->arg);
    return 0;
}

static int ctl_parse_vcpu(const cJSON *v, struct ctl_request *req)
{
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;

    if (!(d >= 0 && d <= 4096) || (double)(unsigned)d != d)
        return err_set(CTL_E_INVALID, "regs: \"vcpu\" must be a vCPU index "
                                      "(an integer from 0)");
    req->vcpu = (unsigned)d;
    return 0;
}

static int ctl_parse_path(const cJSON *v, struct ctl_request *req)
{
    const char *p = cJSON_IsString(v) ? v->valuestring : NULL;

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

static int ctl_parse_object(const cJSON *obj, struct ctl_request *req)
{
    const cJSON *cmd;
    const struct ctl_spec *s;
    char q[65];
    int r;

    if (!cJSON_IsObject(obj))
        return err_set(CTL_E_MALFORMED, "a request is one JSON object");
    cmd = cJSON_GetObjectItemCaseSensitive(obj, "cmd");
    if (!cJSON_IsString(cmd))
        return err_set(CTL_E_INVALID,
                       "a request needs \"cmd\": a command name (string)");
    if (!(s = ctl_find(cmd->valuestring)))
        return err_set(CTL_E_UNKNOWN,
                       "unknown command \"%s\" (status, pause, resume, "
                       "stop, stats, regs, snapshot)",
                       ctl_quote(cmd->valuestring, q, sizeof(q)));
    if ((r = ctl_check_members(obj, s)) < 0)
        return r;
    req->cmd = s->cmd;
    if (s->cmd == CTL_REGS)
        return ctl_parse_vcpu(cJSON_GetObjectItemCaseSensitive(obj, "vcpu"),
                              req);
    if (s->cmd == CTL_SNAPSHOT)
        return ctl_parse_path(cJSON_GetObjectItemCaseSensitive(obj, "path"),
                              req);
    return 0;
}

int ctl_parse(const char *line, size_t len, struct ctl_request *req)
{
    const char *end = NULL;
    cJSON *obj;
    int r;

    memset(req, 0, sizeof(*req));
    if (memchr(line, 0, len))
        return err_set(CTL_E_MALFORMED, "malformed JSON: a NUL byte");
    obj = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!obj)
        return err_set(CTL_E_MALFORMED, "malformed JSON at byte %zu",
                       end && end >= line && end <= line + len
                           ? (size_t)(end - line)
                           : len);
    while (end && end < line + len && strchr(" \t\r", *end))
        end++;
    if (end && end < line + len)
        r = err_set(CTL_E_MALFORMED,
                    "malformed JSON: junk after the object at byte %zu",
                    (size_t)(end - line));
    else
        r = ctl_parse_object(obj, req);
    cJSON_Delete(obj);
    return r;
}
