/* WAV decoding for the sender's file source (mc/wav.h). */
#include "mc/wav.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "mc/common.h"
#include "mc/files.h"
#include "mc/pcm.h"

#define le16 mc__get16le
#define le32 mc__get32le

int mc_wav_decode(const uint8_t *buf, size_t len, int16_t **out, size_t *frames,
                  mc_wav_info *info, char *why, size_t cap)
{
    *out = NULL;
    *frames = 0;
    memset(info, 0, sizeof(*info));
    if (len < 12 || memcmp(buf, "RIFF", 4) || memcmp(buf + 8, "WAVE", 4)) {
        snprintf(why, cap, "not a WAV file (it does not begin with RIFF....WAVE)");
        return MC_EINVAL;
    }
    unsigned fmt = 0, ch = 0, rate = 0, bits = 0, align = 0;
    int have_fmt = 0;
    const uint8_t *pcm = NULL;
    size_t pcm_len = 0;
    for (size_t off = 12; off + 8 <= len;) {
        uint32_t clen = le32(buf + off + 4);
        size_t avail = len - off - 8;
        if (!memcmp(buf + off, "fmt ", 4)) {
            if (avail < 16 || avail < clen) {
                snprintf(why, cap, "the file is cut short (inside its format chunk)");
                return MC_EINVAL;
            }
            if (clen < 16) {
                snprintf(why, cap, "its format chunk is damaged (%u bytes)", (unsigned)clen);
                return MC_EINVAL;
            }
            const uint8_t *f = buf + off + 8;
            fmt = le16(f);
            ch = le16(f + 2);
            rate = le32(f + 4);
            align = le16(f + 12);
            bits = le16(f + 14);
            if (fmt == 0xFFFE && clen >= 40 && avail >= 40)
                fmt = le16(f + 24); /* WAVE_FORMAT_EXTENSIBLE: the sub-format's id */
            have_fmt = 1;
        } else if (!memcmp(buf + off, "data", 4)) {
            pcm = buf + off + 8;
            pcm_len = clen;
            if (clen > avail) {
                pcm_len = avail;
                info->truncated = 1;
            }
            break;
        }
        if (clen > avail)
            break;
        off += 8 + (size_t)clen + (clen & 1);
    }
    if (!have_fmt) {
        snprintf(why, cap, "no format chunk: the file is damaged or cut short");
        return MC_EINVAL;
    }
    info->rate = rate;
    info->channels = ch;
    info->bits = bits;
    info->is_float = fmt == 3;
    if (fmt != 1 && fmt != 3) {
        snprintf(why, cap, "its sound is compressed (WAV format %u); only PCM or float WAV can be "
                 "used: convert it, e.g. ffmpeg -i IN -c:a pcm_s16le OUT.wav", fmt);
        return MC_EINVAL;
    }
    if (fmt == 1 && bits != 8 && bits != 16 && bits != 24 && bits != 32) {
        snprintf(why, cap, "%u-bit samples; 8, 16, 24 or 32-bit PCM can be used", bits);
        return MC_EINVAL;
    }
    if (fmt == 3 && bits != 32) {
        snprintf(why, cap, "%u-bit float samples; 32-bit float can be used", bits);
        return MC_EINVAL;
    }
    if (ch < 1 || ch > 8) {
        snprintf(why, cap, "%u channels; 1 to 8 can be used", ch);
        return MC_EINVAL;
    }
    if (rate < 1000 || rate > 384000) {
        snprintf(why, cap, "a sample rate of %u Hz; 1000 to 384000 Hz can be used", rate);
        return MC_EINVAL;
    }
    unsigned bps = bits / 8, frame = bps * ch;
    if (align && align != frame) {
        snprintf(why, cap, "its block size (%u bytes) does not match %u channels of %u bits",
                 align, ch, bits);
        return MC_EINVAL;
    }
    if (!pcm) {
        snprintf(why, cap, "no data chunk: the file is damaged or cut short");
        return MC_EINVAL;
    }
    size_t in_frames = pcm_len / frame;
    info->seconds = (double)in_frames / rate;
    if (in_frames < 2 || info->seconds < 0.01) {
        snprintf(why, cap, "it holds no sound (%.3f s)%s", info->seconds,
                 info->truncated ? ": the file is cut short" : "");
        return MC_EINVAL;
    }
    mc_pcm_conv conv;
    if (mc_pcm_conv_init(&conv, bits, info->is_float, ch, rate)) { /* checked above */
        snprintf(why, cap, "a sound format that cannot be used");
        return MC_EINVAL;
    }
    size_t n = mc_pcm_out_max(&conv, in_frames);
    if (n > MC_WAV_MAX_BYTES / 4) {
        snprintf(why, cap, "too long (%.0f s at 48 kHz stereo needs more than 512 MiB)",
                 info->seconds);
        return MC_ETOOBIG;
    }
    int16_t *o = malloc(n * 2 * sizeof(int16_t));
    if (!o) {
        snprintf(why, cap, "out of memory");
        return MC_ENOMEM;
    }
    n = mc_pcm_convert(&conv, pcm, in_frames, o, n);
    *out = o;
    *frames = n;
    return 0;
}

int mc_wav_load(const char *path, int16_t **out, size_t *frames, mc_wav_info *info, char *why,
                size_t cap)
{
    char *buf = NULL;
    size_t len = 0;
    int err = mc_read_file(path, MC_WAV_MAX_BYTES, &buf, &len);
    if (err) {
        snprintf(why, cap, "%s", err == MC_ETOOBIG ? "larger than 512 MiB"
                 : err == -EINVAL ? "not a regular file" : mc_strerror(err));
        return err;
    }
    err = mc_wav_decode((const uint8_t *)buf, len, out, frames, info, why, cap);
    free(buf);
    return err;
}
