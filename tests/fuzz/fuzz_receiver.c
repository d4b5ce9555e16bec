/* libFuzzer: the whole receive path (session handling, reassembly, frame
 * accounting, JPEG rebuild and decode, audio jitter buffer and Opus decode,
 * video held for the audio clock) fed a sequence of datagrams. The input is
 * split into packets by a 2-byte big-endian length before each; a length
 * of 0 is the sound card asking for 10 ms instead. */
#include <stdint.h>
#include <stdlib.h>

#include "mc/receiver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* Each input builds a receiver (a 2.3 MB FEC ring, Opus decoder, picture).
 * ASan's default 256 MB quarantine hands out fresh pages every time, and
 * page faults then cost more than the code under test. */
const char *__asan_default_options(void) { return "quarantine_size_mb=16"; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_receiver_config cfg;
    mc_receiver_config_default(&cfg);
    cfg.group = NULL;
    cfg.threads = 0;
    cfg.max_memory = 16u << 20; /* keep forged announces from eating the fuzzer's RAM */
    cfg.audio = MC_AUDIO_OUT_APP;
    mc_receiver *r;
    if (mc_receiver_create(&cfg, &r))
        abort();
    uint64_t now = 1000000;
    size_t i = 0;
    while (i + 2 <= size) {
        size_t len = (size_t)data[i] << 8 | data[i + 1];
        i += 2;
        if (len > size - i)
            len = size - i;
        if (len == 0) {
            static int16_t pcm[2 * 480];
            mc_receiver_audio_pull_at(r, pcm, 480, 0, now);
            now += 10000;
            continue;
        }
        mc_receiver_feed(r, data + i, len, now);
        now += 1000; /* 1 ms per packet: lets session switches happen */
        i += len;
    }
    mc_receiver_stats st;
    mc_receiver_get_stats(r, &st);
    if (st.tiles_held > st.tiles)
        __builtin_trap();
    mc_receiver_destroy(r);
    return 0;
}
