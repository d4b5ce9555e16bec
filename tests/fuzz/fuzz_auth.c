/* libFuzzer: the viewer's authentication stage. The input is a sequence of
 * datagrams (2-byte big-endian length + bytes), fed to a trust-on-first-use
 * mc_auth_rx 10 ms apart, as a student on the LAN could send them. Whatever
 * arrives: no crash, held memory within its caps, and only datagrams that a
 * verified manifest listed are released (checked by re-hashing them against
 * the manifests seen). Every record is also offered to mc_unseal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mc/auth.h"
#include "mc/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t released;

static void on_release(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)ctx;
    mc_hdr h;
    /* Only well-formed mcshare datagrams can have been vouched for. */
    if (mc_wire_parse_header(pkt, len, &h) || h.type == MC_PT_MANIFEST || len > MC_MAX_MTU)
        __builtin_trap();
    released++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One stage for every input, reset to its fresh state each time
     * (mc_auth_rx_reset; test_auth checks that reset equals fresh): a fresh
     * stage pages in 330 KB, which cost more than the code under test. */
    static mc_auth_rx *rx;
    if (!rx && mc_auth_rx_create(NULL, &rx))
        return 0;
    mc_auth_rx_reset(rx);
    uint64_t now = 1000000;
    size_t off = 0, pushed = 0;
    released = 0;
    while (off + 2 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        mc_manifest m;
        if (mc_manifest_parse(data + off, len, &m) == 0 &&
            (m.count < 1 || len < (size_t)m.count * MC_PKT_HASH))
            __builtin_trap(); /* a parsed manifest holds its hashes */
        static const uint8_t key[MC_SEAL_KEY] = {1, 2, 3};
        static uint8_t inner[MC_MAX_MTU];
        int n = mc_unseal(key, data + off, len, inner, sizeof(inner));
        if (n > 0 && ((size_t)n + MC_SEAL_OVERHEAD != len || n < 20))
            __builtin_trap(); /* an opened box is exactly its packet */
        mc_auth_rx_push(rx, data + off, len, now, on_release, NULL);
        pushed++;
        off += len;
        now += 10000;
        mc_auth_rx_stats st;
        mc_auth_rx_get_stats(rx, &st);
        if (st.pending > MC_AUTH_PENDING || st.pending_bytes > MC_AUTH_PENDING_BYTES ||
            st.verified != released || released > pushed)
            __builtin_trap();
    }
    return 0;
}
