/* Configuration files (mc/config.h). */
#include "mc/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc/auth.h"
#include "mc/common.h"
#include "mc/files.h"

#define MAX_FILE (64u << 10)

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static const struct option *find(const struct option *opts, const char *name)
{
    for (; opts->name; opts++)
        if (!strcmp(opts->name, name))
            return opts;
    return NULL;
}

/* yes/no and friends: 1, 0, or -1. */
static int boolean(const char *v)
{
    static const char *yes[] = {"yes", "true", "on", "1"}, *no[] = {"no", "false", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (!strcmp(v, yes[i]))
            return 1;
        if (!strcmp(v, no[i]))
            return 0;
    }
    return -1;
}

/* Appends the settings of one file. 0, 1 with an error, or -ENOENT when
 * the file is not there (and need not be). */
static int read_one(mc_config *cfg, const char *path, const struct option *opts, char **args,
                    char **origins, int *n, char *store, size_t *used, size_t cap)
{
    char *text = NULL;
    size_t len = 0;
    int err = mc_read_file(path, MAX_FILE, &text, &len);
    if (err == -ENOENT)
        return -ENOENT;
    if (err) {
        snprintf(cfg->error, sizeof(cfg->error), "cannot read %s: %s", path,
                 err == MC_ETOOBIG ? "larger than 64 KiB" : err == -EINVAL ? "not a regular file"
                                                                           : mc_strerror(err));
        return 1;
    }
    int line = 0, rc = 0;
    for (char *p = text; p < text + len && !rc;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        char *end = nl ? nl : text + len;
        *end = 0;
        line++;
        char *s = p;
        p = nl ? nl + 1 : text + len;
        while (is_space(*s))
            s++;
        char *e = s + strlen(s);
        while (e > s && is_space(e[-1]))
            *--e = 0;
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        char *key_end = eq ? eq : e;
        while (key_end > s && is_space(key_end[-1]))
            key_end--;
        char key[64];
        size_t kl = (size_t)(key_end - s);
        if (!eq || !kl || kl >= sizeof(key)) {
            snprintf(cfg->error, sizeof(cfg->error), "%s:%d: expected 'key = value'", path, line);
            rc = 1;
            break;
        }
        memcpy(key, s, kl);
        key[kl] = 0;
        char *val = eq + 1;
        while (is_space(*val))
            val++;
        const struct option *o = find(opts, key);
        if (!o || !strcmp(key, "help") || !strcmp(key, "version") || !strcmp(key, "config")) {
            snprintf(cfg->error, sizeof(cfg->error), "%s:%d: unknown key '%s' (the keys are the "
                     "long options of --help, without the dashes)", path, line, key);
            rc = 1;
            break;
        }
        char arg[600];
        if (o->has_arg == no_argument) {
            int b = boolean(val);
            if (b < 0) {
                snprintf(cfg->error, sizeof(cfg->error), "%s:%d: '%s' takes yes or no, not '%s'",
                         path, line, key, val);
                rc = 1;
                break;
            }
            if (!b)
                continue;
            snprintf(arg, sizeof(arg), "--%s", key);
        } else {
            if (!*val) {
                snprintf(cfg->error, sizeof(cfg->error), "%s:%d: '%s' needs a value", path, line,
                         key);
                rc = 1;
                break;
            }
            if (snprintf(arg, sizeof(arg), "--%s=%s", key, val) >= (int)sizeof(arg)) {
                snprintf(cfg->error, sizeof(cfg->error), "%s:%d: the value is too long", path, line);
                rc = 1;
                break;
            }
        }
        char where[sizeof(cfg->error)];
        int wl = snprintf(where, sizeof(where), "%s:%d", path, line);
        size_t need = strlen(arg) + 1 + (size_t)wl + 1;
        if (*n >= MC_CONFIG_MAX_ARGS - 1 || *used + need > cap) {
            snprintf(cfg->error, sizeof(cfg->error), "%s: too many settings", path);
            rc = 1;
            break;
        }
        args[*n] = store + *used;
        memcpy(store + *used, arg, strlen(arg) + 1);
        *used += strlen(arg) + 1;
        origins[*n] = store + *used;
        memcpy(store + *used, where, (size_t)wl + 1);
        *used += (size_t)wl + 1;
        (*n)++;
    }
    free(text);
    return rc;
}

int mc_config_load(mc_config *cfg, const char *prog, const struct option *options, int argc,
                   char **argv)
{
    memset(cfg, 0, sizeof(*cfg));
    /* --config FILE (or --config=FILE) on the command line: that file only. */
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) {
                snprintf(cfg->error, sizeof(cfg->error), "--config needs a file");
                return 1;
            }
            only = argv[i + 1];
        } else if (!strncmp(argv[i], "--config=", 9)) {
            only = argv[i] + 9;
        }
    }
    size_t cap = 2 * MAX_FILE + 8192;
    cfg->store = malloc(cap);
    char **args = calloc(MC_CONFIG_MAX_ARGS, sizeof(char *));
    if (!cfg->store || !args) {
        free(args);
        snprintf(cfg->error, sizeof(cfg->error), "out of memory");
        return 1;
    }
    size_t used = 0;
    int n = 0, rc = 0;
    char path[4096], name[64];
    snprintf(name, sizeof(name), "%s.conf", prog);
    if (only) {
        rc = read_one(cfg, only, options, args, cfg->origin, &n, cfg->store, &used, cap);
        if (rc == -ENOENT) {
            snprintf(cfg->error, sizeof(cfg->error), "--config %s: no such file", only);
            rc = 1;
        }
    } else {
#ifdef _WIN32
        /* The admins' settings for every user: %ProgramData%\\mcshare. */
        const char *pd = getenv("ProgramData");
        snprintf(path, sizeof(path), "%s\\mcshare\\%s", pd && *pd ? pd : "C:\\ProgramData", name);
#else
        snprintf(path, sizeof(path), "/etc/mcshare/%s", name);
#endif
        const char *sys = getenv("MC_SYSCONFDIR"); /* tests point this elsewhere */
        if (sys)
            snprintf(path, sizeof(path), "%s/%s", sys, name);
        rc = read_one(cfg, path, options, args, cfg->origin, &n, cfg->store, &used, cap);
        if (rc == -ENOENT)
            rc = 0;
        if (!rc && !mc_key_default_path(path, sizeof(path), name)) {
            rc = read_one(cfg, path, options, args, cfg->origin, &n, cfg->store, &used, cap);
            if (rc == -ENOENT)
                rc = 0;
        }
    }
    if (rc) {
        free(args);
        return 1;
    }
    if (n + argc > MC_CONFIG_MAX_ARGS + 1024) {
        free(args);
        snprintf(cfg->error, sizeof(cfg->error), "too many arguments");
        return 1;
    }
    char **all = calloc((size_t)(n + argc + 1), sizeof(char *));
    if (!all) {
        free(args);
        snprintf(cfg->error, sizeof(cfg->error), "out of memory");
        return 1;
    }
    all[0] = argv[0];
    for (int i = 0; i < n; i++)
        all[1 + i] = args[i];
    for (int i = 1; i < argc; i++)
        all[n + i] = argv[i];
    free(args);
    cfg->argv = all;
    cfg->argc = n + argc;
    cfg->ncfg = n;
    return 0;
}

const char *mc_config_origin(const mc_config *cfg, int at)
{
    return at >= 1 && at <= cfg->ncfg ? cfg->origin[at - 1] : NULL;
}

void mc_config_free(mc_config *cfg)
{
    free(cfg->argv);
    free(cfg->store);
    cfg->argv = NULL;
    cfg->store = NULL;
}
