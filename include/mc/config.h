/* Configuration files for admins: /etc/mcshare/PROG.conf, overridden by
 * ~/.config/mcshare/PROG.conf (or $XDG_CONFIG_HOME), overridden by the
 * command line; --config FILE reads that file instead of both.
 *
 * A file holds "key = value" lines; blank lines and lines starting with #
 * are ignored. The keys are the program's long options without "--"
 * (group, port, iface, trust, passphrase-file, audio, ...); an option
 * without a value takes yes/no (true/false, on/off, 1/0). A bad line is an
 * error that names the file and the line. */
#ifndef MC_CONFIG_H
#define MC_CONFIG_H

#include <getopt.h>
#include <stddef.h>

#define MC_CONFIG_MAX_ARGS 256

typedef struct {
    int argc;
    char **argv;                   /* prog, the files' options, then the command line */
    int ncfg;                      /* how many come from files (argv[1..ncfg]) */
    char *origin[MC_CONFIG_MAX_ARGS]; /* "FILE:LINE" of each of those */
    char *store;                   /* their text */
    char error[600];
} mc_config;

/* Reads the files for `prog` (options: its getopt_long table) and builds
 * the argument list to parse: the files' settings first, so the command
 * line, parsed after them, wins. Returns 0, or 1 with cfg->error set (a
 * file that cannot be read, a bad line). */
int mc_config_load(mc_config *cfg, const char *prog, const struct option *options, int argc,
                   char **argv);
/* After a parse error at argument index `at` (getopt's optind - 1): the
 * FILE:LINE it came from, or NULL when it came from the command line. */
const char *mc_config_origin(const mc_config *cfg, int at);
void mc_config_free(mc_config *cfg);

#endif
