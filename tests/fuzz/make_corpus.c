/* Writes the seed corpora: real packets of a short broadcast (one file per
 * packet type and size for fuzz_wire; length-prefixed sequences for
 * fuzz_receiver). Run by tools/fuzz when the corpus is missing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test_util.h"
#include "mc/auth.h"
#include "mc/common.h"
#include "mc/sender.h"
#include "mc/testsrc.h"
#include "mc/wire.h"

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: make_corpus WIRE_DIR RECEIVER_DIR [AUTH_DIR]\n");
        return 2;
    }
    recorder rec;
    recorder_init(&rec);
    mc_sender_config sc;
    mc_sender_config_default(&sc);
    sc.width = 96;
    sc.height = 64;
    sc.tile = 32;
    sc.mtu = 800;
    sc.quality = 50;
    sc.max_bitrate_mbit = 10000;
    mc_audio_config ac;
    mc_audio_config_default(&ac);
    ac.source = "tone";
    sc.audio = &ac;
    sc.sink = recorder_sink;
    sc.sink_ctx = &rec;
    mc_signing_key key; /* signed: manifests in every corpus */
    if (mc_key_generate(&key))
        return 1;
    sc.key = &key;
    mc_sender *s;
    if (mc_sender_create(&sc, &s))
        return 1;
    /* Four frames of the test pattern, then the picture scrolls (a page
     * taller than the screen, shown 8 rows further down each frame): the
     * stream has MOVE packets too. */
    static uint8_t pic[96 * 64 * 4], page[96 * 160 * 4];
    uint64_t t0 = mc_now_us();
    for (uint32_t f = 1; f <= 4; f++) {
        mc_testsrc_render(pic, 96 * 4, 96, 64, f * 10);
        mc_sender_submit(s, pic, 96 * 4, t0 + f * 33333u);
    }
    mc_testsrc_render(page, 96 * 4, 96, 160, 40);
    for (uint32_t f = 5; f <= 8; f++)
        mc_sender_submit(s, page + (size_t)(f - 4) * 8 * 96 * 4, 96 * 4, t0 + f * 33333u);
    mc_sender_flush(s);
    mc_sleep_until_us(mc_now_us() + 60000); /* a few audio packets */
    mc_sender_destroy(s);
    /* Fuzz builds take a signature that starts with "ok" (auth.c): mark
     * the seeds' manifests so, so the fuzzers start past the check. */
    for (size_t i = 0; i < rec.n; i++)
        if (rec.pkt[i][3] == MC_PT_MANIFEST && rec.len[i] > MC_SIG_BYTES) {
            rec.pkt[i][rec.len[i] - MC_SIG_BYTES] = 'o';
            rec.pkt[i][rec.len[i] - MC_SIG_BYTES + 1] = 'k';
        }
    char name[64];
    int audio_files = 0;
    for (size_t i = 0; i < rec.n; i++) {
        int audio = rec.pkt[i][3] == MC_PT_AUDIO;
        if (audio ? audio_files++ >= 2 : i >= 24 && rec.pkt[i][3] != MC_PT_MOVE)
            continue;
        snprintf(name, sizeof(name), "pkt%02zu-type%d", i, rec.pkt[i][3]);
        write_file(argv[1], name, rec.pkt[i], rec.len[i]);
    }
    /* Whole stream, and its first half, as receiver inputs. */
    for (int part = 0; part < 2; part++) {
        size_t end = part ? rec.n / 2 : rec.n, total = 0;
        uint8_t *buf = malloc(rec.n * 2100);
        for (size_t i = 0; i < end; i++) {
            if (i % 8 == 7) { /* the sound card asks for 10 ms */
                buf[total++] = 0;
                buf[total++] = 0;
            }
            buf[total++] = (uint8_t)(rec.len[i] >> 8);
            buf[total++] = (uint8_t)rec.len[i];
            memcpy(buf + total, rec.pkt[i], rec.len[i]);
            total += rec.len[i];
        }
        write_file(argv[2], part ? "stream-half" : "stream-full", buf, total);
        free(buf);
    }
    /* Small receiver inputs (fuzz_receiver runs with -max_len=2048, for
     * speed): the first announce and the two datagrams after each of a few
     * places in the stream, moves among them. */
    size_t ann = 0;
    while (ann < rec.n && rec.pkt[ann][3] != MC_PT_ANNOUNCE)
        ann++;
    for (size_t at = ann + 1, k = 0; ann < rec.n && at + 2 < rec.n && k < 24; at += 3, k++) {
        uint8_t buf[3 * 2100];
        size_t total = 0;
        size_t pick[3] = {ann, at, at + 1};
        for (int j = 0; j < 3; j++) {
            size_t i = pick[j];
            if (total + 2 + rec.len[i] > 2048)
                break;
            buf[total++] = (uint8_t)(rec.len[i] >> 8);
            buf[total++] = (uint8_t)rec.len[i];
            memcpy(buf + total, rec.pkt[i], rec.len[i]);
            total += rec.len[i];
        }
        snprintf(name, sizeof(name), "small-%02zu", k);
        write_file(argv[2], name, buf, total);
    }
    /* Small signed inputs for fuzz_auth (-max_len=2048): a manifest and
     * the datagrams it lists, in either order. */
    for (size_t i = 0, k = 0; argc == 4 && i < rec.n && k < 8; i++) {
        if (rec.pkt[i][3] != MC_PT_MANIFEST || i < 2 || rec.len[i] + rec.len[i - 1] + 4 > 2048)
            continue;
        uint8_t buf[2048];
        size_t total = 0, order[2] = {i - 1, i};
        if (k % 2)
            order[0] = i, order[1] = i - 1;
        for (int j = 0; j < 2; j++) {
            buf[total++] = (uint8_t)(rec.len[order[j]] >> 8);
            buf[total++] = (uint8_t)rec.len[order[j]];
            memcpy(buf + total, rec.pkt[order[j]], rec.len[order[j]]);
            total += rec.len[order[j]];
        }
        snprintf(name, sizeof(name), "small-%02zu", k++);
        write_file(argv[3], name, buf, total);
    }
    /* The signed stream for fuzz_auth: whole, and with every third packet
     * before its manifest dropped. */
    for (int part = 0; argc == 4 && part < 2; part++) {
        size_t total = 0;
        uint8_t *buf = malloc(rec.n * 2100);
        for (size_t i = 0; i < rec.n; i++) {
            if (part && i % 3 == 1)
                continue;
            buf[total++] = (uint8_t)(rec.len[i] >> 8);
            buf[total++] = (uint8_t)rec.len[i];
            memcpy(buf + total, rec.pkt[i], rec.len[i]);
            total += rec.len[i];
        }
        write_file(argv[3], part ? "signed-lossy" : "signed-full", buf, total);
        free(buf);
    }
    recorder_free(&rec);
    return 0;
}
