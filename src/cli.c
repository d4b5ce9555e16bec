/* Shared command-line messages of the tools. */
#include "mc/cli.h"

#include "mc/platform.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc/common.h"
#include "mc/net.h"

#include <signal.h>

static void (*stop_fn)(int);

#ifdef _WIN32
static BOOL WINAPI console_event(DWORD ev)
{
    if (ev == CTRL_CLOSE_EVENT || ev == CTRL_LOGOFF_EVENT || ev == CTRL_SHUTDOWN_EVENT) {
        stop_fn(SIGTERM);
        Sleep(3000); /* Windows ends the process when this returns: let main finish */
        return TRUE;
    }
    return FALSE; /* Ctrl-C and Ctrl-Break: the C library's SIGINT */
}
#endif

void mc_cli_on_stop(void (*fn)(int))
{
    stop_fn = fn;
#ifdef _WIN32
    signal(SIGINT, fn);
    signal(SIGTERM, fn);
    SetConsoleCtrlHandler(console_event, TRUE);
#else
    struct sigaction sa = {.sa_handler = fn};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
#endif
}

int mc_cli_unknown(const char *prog, const char *arg)
{
    fprintf(stderr, "%s: unknown option or missing value: %s\nTry '%s --help'.\n", prog, arg, prog);
    return 2;
}

/* A unicast HOST[:PORT]: an IPv4 address that is not multicast, or a name. */
static int is_relay(const char *text)
{
    char host[256];
    const char *colon = strrchr(text, ':');
    size_t hl = colon ? (size_t)(colon - text) : strlen(text);
    long port;
    if (!hl || hl >= sizeof(host) || (colon && mc_parse_long(colon + 1, 1, 65535, &port)))
        return 0;
    memcpy(host, text, hl);
    host[hl] = 0;
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1)
        return (ntohl(a.s_addr) >> 28) != 14;
    for (const char *p = host; *p; p++) /* a host name */
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            return 0;
    return host[0] != '-' && strchr(host, '.') != NULL; /* dotted: "relay.school.org" */
}

int mc_cli_endpoint(const char *prog, int argc, char **argv, int first, char *group, size_t cap,
                    uint16_t *port, char *relay, size_t relay_cap)
{
    if (first < argc - 1) {
        fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help'.\n", prog, argv[first + 1],
                prog);
        return 2;
    }
    if (first == argc - 1 && relay && is_relay(argv[first])) {
        if (strlen(argv[first]) >= relay_cap)
            return 2;
        memcpy(relay, argv[first], strlen(argv[first]) + 1);
        return 0;
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
