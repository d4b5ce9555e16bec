/* libFuzzer: the packet parsers. Any input must parse or be refused
 * cleanly, and whatever parses must survive a write/parse round trip. */
#include <stdint.h>
#include <string.h>

#include "mc/relay.h"
#include "mc/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[MC_MAX_MTU + 2048];
    /* mcrelay's subscription messages: what parses is exactly what the
     * builder makes. */
    const uint8_t *cookie = NULL;
    int rt = mc_relay_parse(data, size, &cookie);
    if (rt > 0) {
        uint8_t m[32];
        size_t ml = mc_relay_msg(m, rt, cookie);
        if (ml != size || memcmp(m, data, size))
            __builtin_trap();
    }
    mc_hdr h;
    if (size > MC_MAX_MTU + 1024 || mc_wire_parse_header(data, size, &h) != 0)
        return 0;
    static uint8_t in[MC_MAX_MTU + 2048];
    mc_video v;
    mc_announce a;
    if (h.type == MC_PT_VIDEO && mc_wire_parse_video(data, size, &v) > 0) {
        /* A parsed datagram must re-encode to itself, record by record
         * (the reserved byte is written as 0). */
        int n = mc_wire_video_begin(out, sizeof(out), &h, v.frame, v.frame_tiles);
        size_t used = n > 0 ? (size_t)n : 0, off = 0;
        while (n > 0 && mc_wire_video_record(data, size, &off, &v))
            if (mc_wire_video_add(out, sizeof(out), &used, &v))
                __builtin_trap();
        memcpy(in, data, size);
        in[MC_HDR_BYTES + 7] = 0;
        if (used != size || memcmp(out, in, size) != 0)
            __builtin_trap();
    }
    if (h.type == MC_PT_ANNOUNCE && mc_wire_parse_announce(data, size, &a) == 0) {
        memcpy(in, data, size);
        in[MC_HDR_BYTES + 29] = 0; /* reserved: ignored on input, written as 0 */
        int n = mc_wire_write_announce(out, sizeof(out), &h, &a);
        if (n != (int)size || memcmp(out, in, size) != 0)
            __builtin_trap();
    }
    mc_move m;
    if (h.type == MC_PT_MOVE && mc_wire_parse_move(data, size, &m) == 0) {
        static uint16_t dst[MC_MAX_MTU], src[MC_MAX_MTU];
        static uint32_t ver[MC_MAX_MTU];
        for (int i = 0; i < m.ndst; i++)
            dst[i] = mc_move_dst(&m, i);
        for (int i = 0; i < m.nsrc; i++)
            mc_move_src(&m, i, &src[i], &ver[i]);
        memcpy(in, data, size);
        in[MC_HDR_BYTES + 18] = in[MC_HDR_BYTES + 19] = 0; /* reserved */
        int n = mc_wire_write_move(out, sizeof(out), &h, &m, dst, src, ver);
        if (n != (int)size || memcmp(out, in, size) != 0)
            __builtin_trap();
    }
    mc_parity par;
    if (h.type == MC_PT_PARITY && mc_wire_parse_parity(data, size, &par) == 0) {
        /* Reserved bytes are ignored on input and written as 0. */
        memcpy(in, data, size);
        in[MC_HDR_BYTES + 11] = in[MC_HDR_BYTES + 14] = in[MC_HDR_BYTES + 15] = 0;
        int n = mc_wire_write_parity(out, sizeof(out), &h, &par);
        if (n != (int)size || memcmp(out, in, size) != 0)
            __builtin_trap();
    }
    mc_audio au;
    if (h.type == MC_PT_AUDIO && mc_wire_parse_audio(data, size, &au) == 0) {
        int n = mc_wire_write_audio(out, sizeof(out), &h, &au);
        if (n != (int)size || memcmp(out, data, size) != 0)
            __builtin_trap();
    }
    return 0;
}
