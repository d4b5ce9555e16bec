/* The viewer's trust policy (mcview, mcprobe): which sender key to accept
 * on a group, and the file that remembers it.
 *
 * Known senders: a text file of "GROUP:PORT FINGERPRINT" lines, like ssh's
 * known_hosts (blank lines and "#" comments allowed; the last line for a
 * group counts). Default $XDG_CONFIG_HOME/mcshare/known_senders. The file
 * is read whole and checked: a damaged line is an error with its line
 * number, never silently skipped, since the key it held would then be
 * trusted again as new. It is rewritten atomically (mc/files.h). */
#ifndef MC_TRUST_H
#define MC_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "mc/auth.h"

#define MC_TRUST_MAX_FILE (1u << 20) /* a known-senders file larger than this is refused */

typedef struct {
    char endpoint[64];
    char file[4096];
    int source;                 /* MC_TRUST_FLAG, _FILE or _FIRST_USE */
    uint8_t fpr[MC_FPR_BYTES];
    int saved;                  /* 0: not yet; 1: remembered; -1: could not be */
    char save_error[4608];      /* why not, when saved == -1 */
    uint64_t warned_wrong, warned_at_us, noted_bad;
    char error[4608];           /* why mc_trust_init failed */
} mc_trust;

enum { MC_TRUST_FIRST_USE = 0, MC_TRUST_FLAG = 1, MC_TRUST_FILE = 2 };

/* group: the multicast group, or "relay:HOST:PORT" for a broadcast seen
 * through mcrelay (remembered under that name).
 * trust_text: --trust (or NULL); file: --known-senders (or NULL: default).
 * Returns 0; MC_EINVAL when trust_text is not a fingerprint (a usage
 * error); MC_EFIELD when the known-senders file cannot be read or is
 * damaged, with t->error saying which file, which line and what to do. */
int mc_trust_init(mc_trust *t, const char *group, uint16_t port, const char *trust_text,
                  const char *file);
/* The fingerprint to pin, or NULL for trust on first use. */
const uint8_t *mc_trust_fpr(const mc_trust *t);
/* Called now and then with the receiver's figures: remembers a key trusted
 * on first use (or says plainly that it could not, and what that means),
 * says loudly (at most every 5 s) when manifests validly signed by another
 * key are refused, and mentions once, quietly, damaged or forged ones. */
void mc_trust_update(mc_trust *t, const mc_auth_rx_stats *st, const char *prog);

/* Checks a known-senders text (len bytes; need not end with a newline):
 * finds the last fingerprint for endpoint. Returns 1 found, 0 not found,
 * or MC_EFIELD with *bad_line set to the first damaged line (1-based). */
int mc_trust_scan(const char *text, size_t len, const char *endpoint, uint8_t fpr[MC_FPR_BYTES],
                  int *bad_line);

#endif
