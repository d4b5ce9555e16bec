/* What the computer plays, recorded where the sound system offers no
 * "monitor" input to SDL: on Windows, WASAPI's shared-mode loopback of the
 * default output (src/audio_wasapi.c). The sender's audio source
 * (audio_tx.c) gets 48 kHz stereo 16-bit blocks from its own thread. */
#ifndef MC_AUDIO_LOOPBACK_H
#define MC_AUDIO_LOOPBACK_H

#include <stddef.h>
#include <stdint.h>

/* A block of `frames` stereo frames, just captured (silence while nothing
 * plays: the output's loopback itself delivers nothing then). */
typedef void (*mc_loopback_fn)(void *ctx, const int16_t *stereo, size_t frames);

typedef struct mc_loopback mc_loopback;

/* Starts recording the default output (or an input that carries it).
 * Returns 0, with `desc` saying what is recorded ("\"Speakers (Realtek
 * Audio)\" (WASAPI loopback)"), or MC_EAUDIO after logging why. */
int mc_loopback_open(mc_loopback_fn fn, void *ctx, char *desc, size_t desc_cap,
                     mc_loopback **out);
/* Stops; no call of fn follows. */
void mc_loopback_close(mc_loopback *lb);

#endif
