/* UDP multicast sockets and address parsing. */
#ifndef MC_NET_H
#define MC_NET_H

#include <stddef.h>
#include <stdint.h>

#define MC_DEFAULT_GROUP "239.1.1.1"
#define MC_DEFAULT_PORT 5004

/* Parses "GROUP[:PORT]" (IPv4 dotted quad, multicast range 224.0.0.0/4).
 * group_out receives the address text. Returns 0 or MC_EADDR/MC_EINVAL. */
int mc_parse_endpoint(const char *text, char *group_out, size_t cap, uint16_t *port);

/* How a group address is meant to be used. 0: an administratively scoped
 * group (239.0.0.0/8, meant for one site); 1: another multicast range
 * (allowed, but it may be routed beyond the school or used by other
 * software: *why says so); MC_EADDR: a link-local control group
 * (224.0.0.0/24: all-hosts, routers, mDNS ...) that every machine on the
 * LAN receives, refused. */
int mc_group_check(const char *group, char *why, size_t cap);
/* Checks --iface (an address of this machine, or an interface name).
 * Returns 0 or MC_EADDR with *why naming it and the interfaces there are. */
int mc_net_check_iface(const char *iface, char *why, size_t cap);
/* Opens a UDP socket that sends to group:port. iface (address or interface
 * name, or NULL for the routing table's choice) selects the outgoing
 * interface. Returns the fd or a negative error. */
int mc_net_open_sender(const char *group, uint16_t port, const char *iface, int ttl, int loop);

/* Opens a UDP socket bound to group:port and joined to the group on iface.
 * rcvbuf_bytes is the requested receive buffer (forced past rmem_max when
 * running as root). Returns the fd or a negative error. */
int mc_net_open_receiver(const char *group, uint16_t port, const char *iface, int rcvbuf_bytes);

/* The same, joined source-specifically (IGMPv3, for 232.0.0.0/8 SSM
 * groups and routers that forward only wanted sources): only datagrams
 * from `source` (an IPv4 address) arrive. source NULL: any source. */
int mc_net_open_receiver_from(const char *group, uint16_t port, const char *iface,
                              const char *source, int rcvbuf_bytes);
/* The IPv4 address of an interface given by address or name ("0.0.0.0"
 * for none). Returns 0 or MC_EADDR. */
int mc_net_iface_address(const char *iface, char *out, size_t cap);
/* Sends one datagram on a socket made by mc_net_open_sender. */
int mc_net_send(int fd, const uint8_t *buf, size_t len);

struct sockaddr_in;
/* A unicast UDP socket, bound to bind_to and/or connected to connect_to
 * (either may be NULL), with receive and send buffers of these sizes (0:
 * the system's): the fd, or a negative code. */
int mc_net_open_udp(const struct sockaddr_in *bind_to, const struct sockaddr_in *connect_to,
                    int rcvbuf_bytes, int sndbuf_bytes);

#endif
