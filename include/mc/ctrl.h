/* Control channel messages (ENet, reliable, channel 0). The multicast
 * stream alone is enough to watch; the control channel adds keyframe and
 * repair requests, receiver reports and clock sync. Big-endian on the wire,
 * checked like everything from the network. docs/protocol.md describes it. */
#ifndef MC_CTRL_H
#define MC_CTRL_H

#include <stddef.h>
#include <stdint.h>

#define MC_CTRL_VERSION 1
#define MC_CTRL_MAX_NAME 32
#define MC_CTRL_MAX_REPAIR 256 /* tiles in one repair request */
#define MC_CTRL_MAX_MSG (3 + 2 * MC_CTRL_MAX_REPAIR)

enum mc_ctrl_type {
    MC_CT_HELLO = 1,    /* viewer -> sender: version, name, a random challenge */
    MC_CT_WELCOME = 2,  /* sender -> viewer: version, session, its key and a signature
                           of the challenge (all zero from an unsigned sender) */
    MC_CT_REPORT = 3,   /* viewer -> sender, about once a second */
    MC_CT_KEYFRAME = 4, /* viewer -> sender: please resend every tile */
    MC_CT_REPAIR = 5,   /* viewer -> sender: please resend these tiles */
    MC_CT_PING = 6,     /* viewer -> sender: t1 (viewer clock, us) */
    MC_CT_PONG = 7,     /* sender -> viewer: t1, t2 = receive, t3 = send (sender clock, us) */
};

typedef struct {
    uint8_t type;
    uint8_t version;                 /* HELLO, WELCOME */
    char name[MC_CTRL_MAX_NAME + 1]; /* HELLO, NUL-terminated, printable ASCII only */
    uint32_t session;                /* WELCOME */
    uint8_t nonce[16];               /* HELLO: the challenge */
    uint8_t key[32], sig[64];        /* WELCOME: Ed25519 public key, signature */
    /* REPORT */
    uint32_t expected, received, recovered; /* packets since the session started */
    uint16_t tiles_held, tiles_total;
    uint32_t lat_p50_us, lat_p95_us;        /* capture -> decoded, sender clock corrected */
    /* REPAIR */
    uint16_t ntiles;
    uint16_t tiles[MC_CTRL_MAX_REPAIR];
    /* PING / PONG */
    uint64_t t1, t2, t3;
} mc_ctrl_msg;

/* Returns the bytes written or a negative MC_E* code. */
int mc_ctrl_write(uint8_t *buf, size_t cap, const mc_ctrl_msg *m);
/* Returns 0 or a negative MC_E* code; never trusts len or counts. */
int mc_ctrl_parse(const uint8_t *buf, size_t len, mc_ctrl_msg *m);

#endif
