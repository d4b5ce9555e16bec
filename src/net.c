/* Multicast socket set-up. Joins and sends on the interface the user names
 * (by address or by name), since a classroom PC often has several. */
#include "mc/net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mc/common.h"
#include "mc/platform.h"

static int is_multicast(struct in_addr a) { return (ntohl(a.s_addr) >> 28) == 14; }

int mc_parse_endpoint(const char *text, char *group_out, size_t cap, uint16_t *port)
{
    char buf[64];
    if (!text || strlen(text) >= sizeof(buf))
        return MC_EADDR;
    strncpy(buf, text, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    char *colon = strchr(buf, ':');
    if (colon) {
        long p;
        *colon = '\0';
        if (mc_parse_long(colon + 1, 1, 65535, &p))
            return MC_EINVAL;
        *port = (uint16_t)p;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1 || !is_multicast(a))
        return MC_EADDR;
    if (strlen(buf) + 1 > cap)
        return MC_EINVAL;
    memcpy(group_out, buf, strlen(buf) + 1);
    return 0;
}

int mc_group_check(const char *group, char *why, size_t cap)
{
    struct in_addr a;
    if (inet_pton(AF_INET, group, &a) != 1 || !is_multicast(a)) {
        snprintf(why, cap, "%s is not a multicast group (224.0.0.0-239.255.255.255)", group);
        return MC_EADDR;
    }
    uint32_t h = ntohl(a.s_addr);
    if ((h >> 8) == (224u << 16)) {
        snprintf(why, cap, "%s is a link-local control group (224.0.0.0/24: all-hosts, routers, "
                 "mDNS ...) that every machine on the LAN receives; use a group in "
                 "239.0.0.0/8, e.g. 239.1.1.1", group);
        return MC_EADDR;
    }
    if ((h >> 24) != 239) {
        snprintf(why, cap, "%s is outside 239.0.0.0/8, the range meant for one site: routers may "
                 "carry it beyond the school and other software may use it; 239.x.y.z is "
                 "safer", group);
        return 1;
    }
    why[0] = 0;
    return 0;
}

int mc_net_check_iface(const char *iface, char *why, size_t cap)
{
    if (!iface || !*iface)
        return 0;
    struct in_addr want;
    int by_addr = inet_pton(AF_INET, iface, &want) == 1;
    mc_iface list[64];
    int n = mc_net_ifaces(list, 64);
    if (n < 0)
        return 0; /* cannot list: let the socket calls say what is wrong */
    int found = 0;
    size_t used = 0;
    char names[512] = "";
    for (int i = 0; i < n; i++) {
        if (by_addr ? list[i].addr.s_addr == want.s_addr : !strcmp(list[i].name, iface))
            found = 1;
        char ab[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &list[i].addr, ab, sizeof(ab));
        int k = snprintf(names + used, sizeof(names) - used, "%s%s (%s)", used ? ", " : "",
                         list[i].name, ab);
        if (k > 0 && used + (size_t)k < sizeof(names))
            used += (size_t)k;
    }
    if (found)
        return 0;
    snprintf(why, cap, "%s '%s' on this computer%s%s", by_addr ? "no interface has the address" :
             "there is no network interface with an IPv4 address named", iface,
             used ? "; there are: " : "", names);
    return MC_EADDR;
}

/* The IPv4 address of an interface given by address or name (0.0.0.0 for
 * none: the system chooses). Multicast joins and sends name the interface
 * by this address, which every system takes. */
static int iface_address(const char *iface, struct in_addr *out)
{
    out->s_addr = htonl(INADDR_ANY);
    if (!iface || !*iface || inet_pton(AF_INET, iface, out) == 1)
        return 0;
    mc_iface list[64];
    int n = mc_net_ifaces(list, 64);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i].name, iface)) {
            *out = list[i].addr;
            return 0;
        }
    return MC_EADDR;
}

/* Resolves group, port and interface, then opens a UDP socket. Returns
 * the fd or a negative error. */
static int open_socket(const char *group, uint16_t port, const char *iface,
                       struct sockaddr_in *sa, struct in_addr *ifaddr)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    if (inet_pton(AF_INET, group, &sa->sin_addr) != 1 || !is_multicast(sa->sin_addr))
        return MC_EADDR;
    int err = iface_address(iface, ifaddr);
    if (err)
        return err;
    if ((err = mc_sock_startup()))
        return err;
    return mc_sock_udp();
}

/* Sets a socket buffer's size; Linux's FORCE variant passes rmem_max /
 * wmem_max when we may. */
static void set_buffer(int fd, int recv, int bytes)
{
#ifdef SO_RCVBUFFORCE
    if (!mc_sock_opt(fd, SOL_SOCKET, recv ? SO_RCVBUFFORCE : SO_SNDBUFFORCE, &bytes,
                     sizeof(bytes)))
        return;
#endif
    mc_sock_opt(fd, SOL_SOCKET, recv ? SO_RCVBUF : SO_SNDBUF, &bytes, sizeof(bytes));
}

int mc_net_open_sender(const char *group, uint16_t port, const char *iface, int ttl, int loop)
{
    struct sockaddr_in sa;
    struct in_addr ifaddr;
    int err, fd = open_socket(group, port, iface, &sa, &ifaddr);
    if (fd < 0)
        return fd;
    int t = ttl, l = loop ? 1 : 0; /* ints: what Windows wants, and Linux takes */
    if ((err = mc_sock_opt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &t, sizeof(t))) ||
        (err = mc_sock_opt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &l, sizeof(l))) ||
        ((iface && *iface) &&
         (err = mc_sock_opt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof(ifaddr)))))
        goto fail;
    set_buffer(fd, 0, 4 << 20);
    /* connect() fixes the destination so each send is a plain send(). */
    if ((err = mc_sock_connect(fd, &sa)))
        goto fail;
    return fd;
fail:
    mc_sock_close(fd);
    return err;
}

int mc_net_iface_address(const char *iface, char *out, size_t cap)
{
    struct in_addr a;
    int err = iface_address(iface, &a);
    if (!err && !inet_ntop(AF_INET, &a, out, (socklen_t)cap))
        err = MC_EINVAL;
    return err;
}

int mc_net_open_receiver(const char *group, uint16_t port, const char *iface, int rcvbuf_bytes)
{
    return mc_net_open_receiver_from(group, port, iface, NULL, rcvbuf_bytes);
}

int mc_net_open_receiver_from(const char *group, uint16_t port, const char *iface,
                              const char *source, int rcvbuf_bytes)
{
    struct sockaddr_in sa;
    struct in_addr ifaddr, src;
    if (source && inet_pton(AF_INET, source, &src) != 1)
        return MC_EADDR;
    int err, fd = open_socket(group, port, iface, &sa, &ifaddr);
    if (fd < 0)
        return fd;
    int one = 1;
    if ((err = mc_sock_opt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))))
        goto fail;
    /* A big receive buffer absorbs a frame's burst while the receive thread
     * is descheduled. */
    set_buffer(fd, 1, rcvbuf_bytes);
    /* Binding to the group address (not INADDR_ANY) keeps other groups'
     * traffic on the same port out of this socket. Windows refuses a
     * multicast address there: INADDR_ANY, and the receiver's checks of
     * the session and signature keep other groups' packets out. */
    struct sockaddr_in local = sa;
#ifdef _WIN32
    local.sin_addr.s_addr = htonl(INADDR_ANY);
#endif
    if ((err = mc_sock_bind(fd, &local)))
        goto fail;
    if (source) {
        /* Source-specific (IGMPv3): only this sender's datagrams. */
        struct ip_mreq_source ms = {.imr_multiaddr = sa.sin_addr, .imr_sourceaddr = src,
                                    .imr_interface = ifaddr};
        if ((err = mc_sock_opt(fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof(ms))))
            goto fail;
        return fd;
    }
    struct ip_mreq mr = {.imr_multiaddr = sa.sin_addr, .imr_interface = ifaddr};
    if ((err = mc_sock_opt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr))))
        goto fail;
    return fd;
fail:
    mc_sock_close(fd);
    return err;
}

int mc_net_open_udp(const struct sockaddr_in *bind_to, const struct sockaddr_in *connect_to,
                    int rcvbuf_bytes, int sndbuf_bytes)
{
    int err = mc_sock_startup();
    if (err)
        return err;
    int fd = mc_sock_udp();
    if (fd < 0)
        return fd;
    if (rcvbuf_bytes)
        set_buffer(fd, 1, rcvbuf_bytes);
    if (sndbuf_bytes)
        set_buffer(fd, 0, sndbuf_bytes);
    if ((bind_to && (err = mc_sock_bind(fd, bind_to))) ||
        (connect_to && (err = mc_sock_connect(fd, connect_to)))) {
        mc_sock_close(fd);
        return err;
    }
    return fd;
}

int mc_net_send(int fd, const uint8_t *buf, size_t len)
{
    for (int tries = 0; tries < 100; tries++) {
        long n = mc_sock_send(fd, buf, len, NULL, 0);
        if (n == (long)len)
            return 0;
        if (n < 0 && n != -EINTR && n != -ENOBUFS && n != -EAGAIN)
            return (int)n;
        /* ENOBUFS: the qdisc is full; back off briefly rather than drop. */
        if (n < 0 && n != -EINTR)
            mc_sleep_until_us(mc_now_us() + 200);
    }
    return -ENOBUFS;
}
