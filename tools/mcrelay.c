/* mcrelay: forward a broadcast to viewers that multicast cannot reach. */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc/cli.h"
#include "mc/common.h"
#include "mc/config.h"
#include "mc/net.h"
#include "mc/relay.h"
#include "mc/wire.h"

static volatile sig_atomic_t g_stop;
static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
"Usage: mcrelay [OPTIONS] [GROUP[:PORT]]\n"
"Forward an mcshare broadcast over unicast UDP to viewers that multicast\n"
"cannot reach: another building, students at home, a network that drops\n"
"multicast. Viewers run: mcview RELAY-HOST[:PORT]. The datagrams go on\n"
"unchanged: the teacher's signatures still prove every picture, so a relay\n"
"cannot alter or forge one (viewers should pin the teacher's key with\n"
"--trust when they watch through a relay).\n\n"
"  GROUP[:PORT]        the broadcast to relay (default 239.1.1.1:5004)\n"
"  --from HOST[:PORT]  relay what another mcrelay relays instead (a chain:\n"
"                      a second building, or a relay on the internet)\n"
"  --iface ADDR|NAME   join the group on this interface\n"
"  --source ADDR       join only the datagrams of the sender at ADDR (SSM)\n"
"  --listen-port N     the UDP port viewers subscribe to (default %d)\n"
"  --listen ADDR       listen on this address only (default: all)\n"
"  --max-viewers N     subscriptions accepted, 1..100000 (default 500)\n"
"  --viewer-rate MBIT  send each viewer at most this fast (in bursts of 16 KB or\n"
"                      4 ms, whichever is more),\n"
"                      or twice the broadcast's own rate when that is more:\n"
"                      a keyframe's burst reaches a slow home line smoothed,\n"
"                      and a viewer that falls behind skips ahead alone\n"
"                      (0.5..10000, default 20)\n"
"  --no-control        do not carry the viewers' control channel (repairs,\n"
"                      keyframes, reports) to the teacher; it goes from the\n"
"                      port after --listen-port (default 5007) to the teacher's\n"
"                      control port, one socket per viewer, for up to 1000\n"
"                      viewers (the rest get FEC and the refresh)\n"
"  --config FILE       settings from FILE instead of /etc/mcshare/mcrelay.conf and\n"
"                      ~/.config/mcshare/mcrelay.conf\n"
"  -v, --verbose       more messages (each viewer that subscribes)\n"
"  -h, --help, -V, --version\n\n"
"A status line every 5 s. Viewers subscribe over UDP (a cookie proves each\n"
"receives at its address, so no one can aim the relay at a third party) and\n"
"renew every second; a viewer behind NAT works, since it opens the exchange.\n"
"Ctrl-C, SIGTERM or SIGHUP stop it.\n", MC_RELAY_PORT);
}

static const struct option LONGS[] = {
    {"from", 1, 0, 'f'}, {"iface", 1, 0, 'i'}, {"source", 1, 0, 's'}, {"listen-port", 1, 0, 'p'},
    {"listen", 1, 0, 'l'}, {"max-viewers", 1, 0, 'm'}, {"group", 1, 0, 'g'}, {"config", 1, 0, 'c'},
    {"no-control", 0, 0, 'C'}, {"viewer-rate", 1, 0, 'r'}, {"verbose", 0, 0, 'v'}, {"help", 0, 0, 'h'}, {"version", 0, 0, 'V'}, {0, 0, 0, 0}};

typedef struct {
    char group[64];
    uint16_t port;
    mc_relay_config rc;
} options;

static int parse_args(int argc, char **argv, options *o)
{
    int c;
    long n;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "vhV", LONGS, NULL)) != -1) {
        switch (c) {
        case 'f': o->rc.upstream = optarg; break;
        case 'i': o->rc.iface = optarg; break;
        case 's': o->rc.source = optarg; break;
        case 'l': o->rc.listen_addr = optarg; break;
        case 'c': break; /* read before parsing (mc/config.h) */
        case 'C': o->rc.no_ctrl = 1; break;
        case 'r':
            if (mc_parse_double(optarg, 0.5, 10000, &o->rc.viewer_mbit)) {
                fprintf(stderr, "mcrelay: invalid --viewer-rate '%s': must be 0.5..10000 (Mbit/s)\n",
                        optarg);
                return 2;
            }
            break;
        case 'g':
            if (mc_parse_endpoint(optarg, o->group, sizeof(o->group), &o->port)) {
                fprintf(stderr, "mcrelay: invalid --group '%s': not a multicast GROUP[:PORT]\n", optarg);
                return 2;
            }
            break;
        case 'p':
            if (mc_parse_long(optarg, 1, 65534, &n)) {
                fprintf(stderr, "mcrelay: invalid --listen-port '%s': must be 1..65534 (the next "
                        "port is the viewers' control channel)\n", optarg);
                return 2;
            }
            o->rc.listen_port = (uint16_t)n;
            break;
        case 'm':
            if (mc_parse_long(optarg, 1, 100000, &n)) {
                fprintf(stderr, "mcrelay: invalid --max-viewers '%s': must be 1..100000\n", optarg);
                return 2;
            }
            o->rc.max_viewers = (int)n;
            break;
        case 'v': mc_log_level++; break;
        case 'h': usage(stdout); return -1;
        case 'V': printf("mcrelay %s (wire version %d)\n", MC_VERSION_STRING, MC_WIRE_VERSION); return -1;
        default: return mc_cli_unknown("mcrelay", argv[optind - 1]);
        }
    }
    if (mc_cli_endpoint("mcrelay", argc, argv, optind, o->group, sizeof(o->group), &o->port, NULL, 0))
        return 2;
    if (o->rc.upstream && optind < argc) {
        fprintf(stderr, "mcrelay: give a GROUP or --from, not both\nTry 'mcrelay --help'.\n");
        return 2;
    }
    return 0;
}

static uint64_t last_out_bytes, last_in;

static void status(mc_relay *r)
{
    mc_relay_stats st;
    mc_relay_get_stats(r, &st);
    fprintf(stderr, "mcrelay: %d viewers (%d control channels), %.0f datagrams/s in, %.2f Mbit/s "
            "out, %llu refused, %llu not sent (full buffers), %llu skipped by viewers too slow\n",
            st.viewers, st.ctrl_channels,
            (double)(st.in - last_in) / 5.0, (double)(st.out_bytes - last_out_bytes) * 8 / 5.0 / 1e6,
            (unsigned long long)(st.refused + st.ctrl_refused), (unsigned long long)st.send_errors,
            (unsigned long long)st.lagged);
    last_in = st.in;
    last_out_bytes = st.out_bytes;
}

int main(int argc, char **argv)
{
    options o = {.group = MC_DEFAULT_GROUP, .port = MC_DEFAULT_PORT};
    static mc_config cf;
    if (mc_config_load(&cf, "mcrelay", LONGS, argc, argv)) {
        fprintf(stderr, "mcrelay: %s\n", cf.error);
        return 2;
    }
    int rc = parse_args(cf.argc, cf.argv, &o);
    if (rc > 0 && mc_config_origin(&cf, optind - 1))
        fprintf(stderr, "mcrelay: (that setting is in %s)\n", mc_config_origin(&cf, optind - 1));
    if (rc)
        return rc < 0 ? 0 : rc;
    if (mc_cli_iface("mcrelay", o.rc.iface))
        return 1;
    o.rc.group = o.group;
    o.rc.port = o.port;
    mc_cli_on_stop(on_signal);
    mc_relay *r;
    char why[400] = "";
    int err = mc_relay_create(&o.rc, &r, why, sizeof(why));
    if (err) {
        fprintf(stderr, "mcrelay: %s\n", why);
        return 1;
    }
    if (o.rc.upstream)
        fprintf(stderr, "mcrelay: relaying what the relay %s relays", o.rc.upstream);
    else
        fprintf(stderr, "mcrelay: relaying %s:%u", o.group, (unsigned)o.port);
    fprintf(stderr, " to viewers subscribed on UDP port %u (mcview THIS-HOST%s%u). Ctrl-C stops.\n",
            (unsigned)(o.rc.listen_port ? o.rc.listen_port : MC_RELAY_PORT), ":",
            (unsigned)(o.rc.listen_port ? o.rc.listen_port : MC_RELAY_PORT));
    mc_relay_run(r, &g_stop, status);
    mc_relay_destroy(r);
    fprintf(stderr, "mcrelay: stopped\n");
    return 0;
}
