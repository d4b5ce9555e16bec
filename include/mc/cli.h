/* Shared command-line handling of the tools: the same messages and exit
 * codes everywhere (usage errors on stderr, exit status 2). */
#ifndef MC_CLI_H
#define MC_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Reports an unknown option or a missing value; returns 2. */
int mc_cli_unknown(const char *prog, const char *arg);

/* Parses the optional positional GROUP[:PORT] of a viewer tool from
 * argv[first..argc-1] into group/port (left as they are when absent).
 * Returns 0, or prints the problem and returns 2. */
/* With relay (not NULL), a unicast HOST[:PORT] (an address that is not
 * multicast, or a dotted host name) is taken as an mcrelay to subscribe
 * to and copied there instead. */
int mc_cli_endpoint(const char *prog, int argc, char **argv, int first, char *group, size_t cap,
                    uint16_t *port, char *relay, size_t relay_cap);

/* Checks --iface: returns 0, or prints which interfaces there are and
 * returns 1. */
int mc_cli_iface(const char *prog, const char *iface);
/* Checks, before a long run, that an output file given with `opt` can be
 * written at the end (its directory exists and is writable, it is not a
 * directory). Returns 0, or prints why not and returns 1. */
int mc_cli_output_path(const char *prog, const char *opt, const char *path);

/* Calls fn(signal) when the program is asked to stop: Ctrl-C, SIGTERM, and
 * the terminal closing (SIGHUP; on Windows the console window closed, the
 * user logging off or the system shutting down). A write to a closed pipe
 * is an error, not a signal. fn must only set a flag. */
void mc_cli_on_stop(void (*fn)(int));

#endif
