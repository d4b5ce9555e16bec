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
 * page faults then cost more than the code under test. ASan also fills the
 * first 4 KB of every allocation with 0xbe, a tenth of the time here: off
 * (reads of memory never written are MSan's to find, not ASan's). */
const char *__asan_default_options(void) { return "quarantine_size_mb=16:max_malloc_fill_size=0"; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mc_receiver_config cfg;
    static int ready;
    if (!ready) { /* once: the defaults read the CPU count from /sys */
        mc_receiver_config_default(&cfg);
        cfg.group = NULL;
        cfg.threads = 0;
        /* Sessions of up to about 20,000 pixels (the seeds are 96x64): the
         * same code paths as a 1080p one, without blanking and paging in
         * hundreds of kilobytes per input. */
        cfg.max_memory = 1u << 18;
        cfg.audio = MC_AUDIO_OUT_APP;
        ready = 1;
    }
    /* One receiver for every input, reset to its fresh state each time
     * (test_receiver checks that reset equals fresh): creating one cost
     * more than most inputs. */
    static mc_receiver *r;
    if (!r && mc_receiver_create(&cfg, &r))
        abort();
    if (mc_receiver_reset(r))
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
    return 0;
}
