/* libFuzzer: the packet parsers. Any input must parse or be refused
 * cleanly, and whatever parses must survive a write/parse round trip. */
#include <stdint.h>
#include <string.h>

#include "mc/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[MC_MAX_MTU + 2048];
    mc_hdr h;
    if (size > MC_MAX_MTU + 1024 || mc_wire_parse_header(data, size, &h) != 0)
        return 0;
    mc_video v;
    mc_announce a;
    if (h.type == MC_PT_VIDEO && mc_wire_parse_video(data, size, &v) == 0) {
        int n = mc_wire_write_video(out, sizeof(out), &h, &v);
        if (n != (int)size || memcmp(out, data, size) != 0)
            __builtin_trap(); /* a parsed fragment must re-encode to itself */
    }
    if (h.type == MC_PT_ANNOUNCE && mc_wire_parse_announce(data, size, &a) == 0) {
        int n = mc_wire_write_announce(out, sizeof(out), &h, &a);
        if (n <= 0 || memcmp(out, data, (size_t)n) != 0)
            __builtin_trap();
    }
    mc_parity par;
    if (h.type == MC_PT_PARITY && mc_wire_parse_parity(data, size, &par) == 0) {
        /* Reserved bytes are ignored on input and written as 0. */
        static uint8_t in[MC_MAX_MTU + 2048];
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
