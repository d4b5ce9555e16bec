/* Shared command-line messages of the tools. */
#include "mc/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc/net.h"

int mc_cli_unknown(const char *prog, const char *arg)
{
    fprintf(stderr, "%s: unknown option or missing value: %s\nTry '%s --help'.\n", prog, arg, prog);
    return 2;
}

int mc_cli_endpoint(const char *prog, int argc, char **argv, int first, char *group, size_t cap,
                    uint16_t *port)
{
    if (first < argc - 1) {
        fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help'.\n", prog, argv[first + 1],
                prog);
        return 2;
    }
    if (first == argc - 1 && mc_parse_endpoint(argv[first], group, cap, port)) {
        fprintf(stderr, "%s: '%s' is not a multicast GROUP[:PORT] (e.g. 239.1.1.1:5004)\n", prog,
                argv[first]);
        return 2;
    }
    char why[256];
    if (mc_group_check(group, why, sizeof(why)) < 0) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 2;
    }
    return 0;
}

int mc_cli_iface(const char *prog, const char *iface)
{
    char why[600];
    if (!mc_net_check_iface(iface, why, sizeof(why)))
        return 0;
    fprintf(stderr, "%s: --iface: %s\n", prog, why);
    return 1;
}

int mc_cli_output_path(const char *prog, const char *opt, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    struct stat st;
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    const char *why = NULL;
    if (!*path || (slash && !slash[1]))
        why = "no file name";
    else if (!stat(path, &st) && S_ISDIR(st.st_mode))
        why = "it is a directory";
    else if (stat(dir, &st))
        why = errno == ENOENT ? "its directory does not exist" : strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = "its directory is not a directory";
    else if (access(dir, W_OK))
        why = "its directory is not writable";
    if (!why)
        return 0;
    fprintf(stderr, "%s: cannot write %s '%s': %s\n", prog, opt, path, why);
    return 1;
}
