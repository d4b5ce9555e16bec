/* WAV files for --audio file:F.wav: PCM of 8, 16, 24 or 32 bits or 32-bit
 * float, 1..8 channels, 1 kHz..384 kHz (plain or WAVE_FORMAT_EXTENSIBLE),
 * turned into 48 kHz stereo 16-bit (linear resampling; channel 1 and 2,
 * a mono file on both). What cannot be used is refused with the reason. */
#ifndef MC_WAV_H
#define MC_WAV_H

#include <stddef.h>
#include <stdint.h>

#define MC_WAV_MAX_BYTES (512u << 20)

typedef struct {
    unsigned rate, channels, bits;
    int is_float;
    double seconds;      /* of sound in the file */
    int truncated;       /* the data chunk is cut short: only what is there is used */
} mc_wav_info;

/* Decodes a whole file held in memory. Returns 0 with *out (malloc'd,
 * frames x 2 samples) or a negative code with *why saying what is wrong
 * in words a teacher can act on. */
int mc_wav_decode(const uint8_t *buf, size_t len, int16_t **out, size_t *frames,
                  mc_wav_info *info, char *why, size_t cap);
/* Reads and decodes a file: the same, plus the file's own errors. */
int mc_wav_load(const char *path, int16_t **out, size_t *frames, mc_wav_info *info, char *why,
                size_t cap);

#endif
