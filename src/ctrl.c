/* Control message encoding and checking. */
#include "mc/ctrl.h"

#include <string.h>

#include "bytes.h"
#include "mc/common.h"


/* Fixed size of each message type (REPAIR and HELLO: the minimum). */
static size_t base_len(uint8_t type)
{
    switch (type) {
    case MC_CT_HELLO: return 3 + 16;
    case MC_CT_WELCOME: return 6 + 32 + 64;
    case MC_CT_REPORT: return 25;
    case MC_CT_KEYFRAME: return 1;
    case MC_CT_REPAIR: return 3;
    case MC_CT_PING: return 9;
    case MC_CT_PONG: return 25;
    default: return 0;
    }
}

int mc_ctrl_write(uint8_t *buf, size_t cap, const mc_ctrl_msg *m)
{
    size_t n = base_len(m->type), name_len = 0;
    if (n == 0)
        return MC_EINVAL;
    if (m->type == MC_CT_HELLO) {
        name_len = strnlen(m->name, MC_CTRL_MAX_NAME);
        n += name_len;
    }
    if (m->type == MC_CT_REPAIR) {
        if (m->ntiles > MC_CTRL_MAX_REPAIR)
            return MC_EINVAL;
        n += 2u * m->ntiles;
    }
    if (cap < n)
        return MC_ETOOBIG;
    buf[0] = m->type;
    uint8_t *p = buf + 1;
    switch (m->type) {
    case MC_CT_HELLO:
        p[0] = m->version;
        p[1] = (uint8_t)name_len;
        memcpy(p + 2, m->name, name_len);
        memcpy(p + 2 + name_len, m->nonce, 16);
        break;
    case MC_CT_WELCOME:
        p[0] = m->version;
        mc__put32(p + 1, m->session);
        memcpy(p + 5, m->key, 32);
        memcpy(p + 37, m->sig, 64);
        break;
    case MC_CT_REPORT:
        mc__put32(p, m->expected);
        mc__put32(p + 4, m->received);
        mc__put32(p + 8, m->recovered);
        mc__put16(p + 12, m->tiles_held);
        mc__put16(p + 14, m->tiles_total);
        mc__put32(p + 16, m->lat_p50_us);
        mc__put32(p + 20, m->lat_p95_us);
        break;
    case MC_CT_REPAIR:
        mc__put16(p, m->ntiles);
        for (int i = 0; i < m->ntiles; i++)
            mc__put16(p + 2 + 2 * i, m->tiles[i]);
        break;
    case MC_CT_PING:
        mc__put64(p, m->t1);
        break;
    case MC_CT_PONG:
        mc__put64(p, m->t1);
        mc__put64(p + 8, m->t2);
        mc__put64(p + 16, m->t3);
        break;
    default:
        break;
    }
    return (int)n;
}

int mc_ctrl_parse(const uint8_t *buf, size_t len, mc_ctrl_msg *m)
{
    if (len < 1)
        return MC_ETRUNC;
    memset(m, 0, sizeof(*m));
    m->type = buf[0];
    size_t n = base_len(m->type);
    if (n == 0)
        return MC_EFIELD;
    if (len < n)
        return MC_ETRUNC;
    const uint8_t *p = buf + 1;
    switch (m->type) {
    case MC_CT_HELLO: {
        m->version = p[0];
        size_t nl = p[1];
        if (nl > MC_CTRL_MAX_NAME || len != n + nl)
            return MC_EFIELD;
        for (size_t i = 0; i < nl; i++) {
            if (p[2 + i] < 0x20 || p[2 + i] > 0x7E)
                return MC_EFIELD; /* names end up on the teacher's terminal */
            m->name[i] = (char)p[2 + i];
        }
        memcpy(m->nonce, p + 2 + nl, 16);
        return 0;
    }
    case MC_CT_WELCOME:
        m->version = p[0];
        m->session = mc__get32(p + 1);
        memcpy(m->key, p + 5, 32);
        memcpy(m->sig, p + 37, 64);
        break;
    case MC_CT_REPORT:
        m->expected = mc__get32(p);
        m->received = mc__get32(p + 4);
        m->recovered = mc__get32(p + 8);
        m->tiles_held = mc__get16(p + 12);
        m->tiles_total = mc__get16(p + 14);
        m->lat_p50_us = mc__get32(p + 16);
        m->lat_p95_us = mc__get32(p + 20);
        break;
    case MC_CT_REPAIR:
        m->ntiles = mc__get16(p);
        if (m->ntiles > MC_CTRL_MAX_REPAIR || len != n + 2u * m->ntiles)
            return MC_EFIELD;
        for (int i = 0; i < m->ntiles; i++)
            m->tiles[i] = mc__get16(p + 2 + 2 * i);
        return 0;
    case MC_CT_PING:
        m->t1 = mc__get64(p);
        break;
    case MC_CT_PONG:
        m->t1 = mc__get64(p);
        m->t2 = mc__get64(p + 8);
        m->t3 = mc__get64(p + 16);
        break;
    default:
        break;
    }
    return len == n ? 0 : MC_EFIELD;
}
