/* Multicast socket set-up. Joins and sends on the interface the user names
 * (by address or by name), since a classroom PC often has several. */
#include "mc/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list))
        return 0; /* cannot list: let the socket calls say what is wrong */
    int found = 0;
    size_t used = 0;
    char names[512] = "";
    for (struct ifaddrs *i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        if (by_addr ? a.s_addr == want.s_addr : !strcmp(i->ifa_name, iface))
            found = 1;
        char ab[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, ab, sizeof(ab));
        int n = snprintf(names + used, sizeof(names) - used, "%s%s (%s)", used ? ", " : "",
                         i->ifa_name, ab);
        if (n > 0 && used + (size_t)n < sizeof(names))
            used += (size_t)n;
    }
    freeifaddrs(list);
    if (found)
        return 0;
    snprintf(why, cap, "%s '%s' on this computer%s%s", by_addr ? "no interface has the address" :
             "there is no network interface with an IPv4 address named", iface,
             used ? "; there are: " : "", names);
    return MC_EADDR;
}

/* Resolves an interface given as an IPv4 address or a name into an
 * ip_mreqn-style (address, index) pair. */
static int resolve_iface(const char *iface, struct in_addr *addr, int *index)
{
    addr->s_addr = htonl(INADDR_ANY);
    *index = 0;
    if (!iface || !*iface)
        return 0;
    if (inet_pton(AF_INET, iface, addr) == 1)
        return 0;
    unsigned idx = if_nametoindex(iface);
    if (idx == 0)
        return MC_EADDR;
    *index = (int)idx;
    return 0;
}

/* Resolves group, port and interface, then opens a UDP socket. Returns
 * the fd or a negative error. */
static int open_socket(const char *group, uint16_t port, const char *iface,
                       struct sockaddr_in *sa, struct ip_mreqn *mr)
{
    memset(sa, 0, sizeof(*sa));
    memset(mr, 0, sizeof(*mr));
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    if (inet_pton(AF_INET, group, &sa->sin_addr) != 1 || !is_multicast(sa->sin_addr))
        return MC_EADDR;
    int err = resolve_iface(iface, &mr->imr_address, &mr->imr_ifindex);
    if (err)
        return err;
    mr->imr_multiaddr = sa->sin_addr;
    if ((err = mc_sock_startup()))
        return err;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

int mc_net_open_sender(const char *group, uint16_t port, const char *iface, int ttl, int loop)
{
    struct sockaddr_in sa;
    struct ip_mreqn mr;
    int err, fd = open_socket(group, port, iface, &sa, &mr);
    if (fd < 0)
        return fd;
    unsigned char t = (unsigned char)ttl, l = (unsigned char)(loop ? 1 : 0);
    int sndbuf = 4 << 20;
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &t, sizeof(t)) ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &l, sizeof(l)) ||
        ((iface && *iface) && setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr))))
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    /* connect() fixes the destination so each send is a plain send(). */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        goto fail;
    return fd;
fail:
    err = -errno;
    mc_sock_close(fd);
    return err;
}

/* The IPv4 address of an interface given by address or name (0.0.0.0 for
 * none): what ip_mreq_source wants, which takes no interface index. */
static int iface_address(const char *iface, struct in_addr *out)
{
    out->s_addr = htonl(INADDR_ANY);
    if (!iface || !*iface || inet_pton(AF_INET, iface, out) == 1)
        return 0;
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list))
        return -errno;
    int found = 0;
    for (struct ifaddrs *i = list; i && !found; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, iface)) {
            *out = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
            found = 1;
        }
    freeifaddrs(list);
    return found ? 0 : MC_EADDR;
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
    struct ip_mreqn mr;
    struct in_addr src;
    if (source && inet_pton(AF_INET, source, &src) != 1)
        return MC_EADDR;
    int err, fd = open_socket(group, port, iface, &sa, &mr);
    if (fd < 0)
        return fd;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
        goto fail;
    /* A big receive buffer absorbs a frame's burst while the receive thread
     * is descheduled; SO_RCVBUFFORCE passes rmem_max when we may. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf_bytes, sizeof(rcvbuf_bytes)))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof(rcvbuf_bytes));
    /* Binding to the group address (not INADDR_ANY) keeps other groups'
     * traffic on the same port out of this socket. */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
        goto fail;
    if (source) {
        /* Source-specific (IGMPv3): only this sender's datagrams. */
        struct ip_mreq_source ms = {.imr_multiaddr = sa.sin_addr, .imr_sourceaddr = src};
        err = iface_address(iface, &ms.imr_interface);
        if (err) {
            mc_sock_close(fd);
            return err;
        }
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof(ms)))
            goto fail;
        return fd;
    }
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)))
        goto fail;
    return fd;
fail:
    err = -errno;
    mc_sock_close(fd);
    return err;
}

int mc_net_open_udp(const struct sockaddr_in *bind_to, const struct sockaddr_in *connect_to,
                    int rcvbuf_bytes, int sndbuf_bytes)
{
    int err = mc_sock_startup();
    if (err)
        return err;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* The FORCE variants pass rmem_max/wmem_max when we may. */
    if (rcvbuf_bytes &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf_bytes, sizeof(rcvbuf_bytes)))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof(rcvbuf_bytes));
    if (sndbuf_bytes &&
        setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf_bytes, sizeof(sndbuf_bytes)))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf_bytes, sizeof(sndbuf_bytes));
    if ((bind_to && bind(fd, (const struct sockaddr *)bind_to, sizeof(*bind_to))) ||
        (connect_to && connect(fd, (const struct sockaddr *)connect_to, sizeof(*connect_to)))) {
        err = -errno;
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
