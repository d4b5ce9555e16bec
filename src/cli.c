/* Shared command-line messages of the tools. */
#include "mc/cli.h"

#include <stdio.h>

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
    return 0;
}
