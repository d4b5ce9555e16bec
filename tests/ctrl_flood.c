/* A hostile viewer for the tests: connects to a sender's control port and
 * sends as many requests as it can (repairs of every tile, keyframes,
 * garbage) at a given rate for a given time, then prints what it sent.
 *   ctrl_flood HOST PORT MSGS_PER_S SECONDS */
#include <arpa/inet.h>
#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>

#include "mc/common.h"
#include "mc/ctrl.h"

int main(int argc, char **argv)
{
    long port, rate, secs;
    if (argc != 5 || mc_parse_long(argv[2], 1, 65535, &port) ||
        mc_parse_long(argv[3], 1, 1000000, &rate) || mc_parse_long(argv[4], 1, 600, &secs)) {
        fprintf(stderr, "usage: ctrl_flood HOST PORT MSGS_PER_S SECONDS\n");
        return 2;
    }
    if (enet_initialize())
        return 1;
    ENetHost *h = enet_host_create(NULL, 1, 1, 0, 0);
    ENetAddress a = {.port = (uint16_t)port};
    enet_address_set_host_ip(&a, argv[1]);
    ENetPeer *p = h ? enet_host_connect(h, &a, 1, 0) : NULL;
    ENetEvent ev;
    if (!p || enet_host_service(h, &ev, 3000) <= 0 || ev.type != ENET_EVENT_TYPE_CONNECT) {
        fprintf(stderr, "ctrl_flood: cannot connect to %s:%ld\n", argv[1], port);
        return 1;
    }
    uint8_t buf[MC_CTRL_MAX_MSG];
    mc_ctrl_msg m = {.type = MC_CT_HELLO, .version = MC_CTRL_VERSION, .name = "flooder"};
    int n = mc_ctrl_write(buf, sizeof(buf), &m);
    enet_peer_send(p, 0, enet_packet_create(buf, (size_t)n, ENET_PACKET_FLAG_RELIABLE));
    uint64_t start = mc_now_us(), sent = 0;
    while (mc_now_us() - start < (uint64_t)secs * 1000000u) {
        uint64_t due = (uint64_t)((double)(mc_now_us() - start) / 1e6 * (double)rate);
        for (; sent < due; sent++) {
            mc_ctrl_msg r = {.type = MC_CT_REPAIR, .ntiles = MC_CTRL_MAX_REPAIR};
            for (int i = 0; i < MC_CTRL_MAX_REPAIR; i++)
                r.tiles[i] = (uint16_t)((sent * 7 + (uint64_t)i) % 4096);
            if (sent % 3 == 1)
                r = (mc_ctrl_msg){.type = MC_CT_KEYFRAME};
            n = mc_ctrl_write(buf, sizeof(buf), &r);
            if (sent % 3 == 2)
                buf[0] = 0xEE; /* garbage */
            /* Unreliable: a flooder does not wait for acknowledgements. */
            ENetPacket *pk = enet_packet_create(buf, (size_t)n, ENET_PACKET_FLAG_UNSEQUENCED);
            if (pk && enet_peer_send(p, 0, pk) < 0)
                enet_packet_destroy(pk);
        }
        int got = enet_host_service(h, &ev, 1);
        if (got > 0 && ev.type == ENET_EVENT_TYPE_RECEIVE)
            enet_packet_destroy(ev.packet); /* the WELCOME, pongs: ignored */
        if (got > 0 && ev.type == ENET_EVENT_TYPE_DISCONNECT)
            break;
    }
    enet_peer_disconnect_now(p, 0);
    enet_host_flush(h);
    printf("ctrl_flood: sent %llu messages in %ld s\n", (unsigned long long)sent, secs);
    enet_host_destroy(h);
    return 0;
}
