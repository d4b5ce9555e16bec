/* Sender authentication: every datagram a viewer uses is covered by an
 * Ed25519-signed MANIFEST (docs/security.md, docs/protocol.md).
 *
 * The sender hashes each datagram it sends (BLAKE2b, 8 bytes) and, at the
 * end of each burst (a frame's last packet, an audio packet, a full list),
 * sends a MANIFEST: its public key, a wall-clock time and the hashes, signed
 * once. A manifest goes out once and lists its own burst's datagrams and
 * the previous burst's again, so a datagram is lost to a viewer only if
 * both manifests that list it are. One signature per burst instead of per
 * packet: tens of thousands of packets per second cost a few hundred
 * signatures, and about 1.5 % of the bytes (docs/security.md).
 *
 * A viewer holds every arriving datagram until a manifest from the trusted
 * key lists its hash, then releases it, once. Datagrams that no manifest
 * vouches for within MC_AUTH_HOLD_US are dropped. Memory is bounded:
 * at most MC_AUTH_PENDING datagrams and MC_AUTH_PENDING_BYTES are held.
 */
#ifndef MC_AUTH_H
#define MC_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define MC_KEY_PUBLIC 32
#define MC_KEY_SECRET 64
#define MC_SIG_BYTES 64
#define MC_PKT_HASH 8 /* BLAKE2b with an 8-byte output, of a datagram (docs/security.md: why 64 bits) */
#define MC_FPR_BYTES 10               /* 80-bit fingerprint of a public key */
#define MC_FPR_CHARS 25               /* "xxxx-xxxx-xxxx-xxxx-xxxx" + NUL */
#define MC_MANIFEST_FIXED_BYTES 44    /* after the common header: alg, flags, count, key, wall */
#define MC_MANIFEST_ALG 2 /* Ed25519 signature, BLAKE2b-64 hashes, each listed twice */
#define MC_AUTH_PENDING 4096          /* datagrams held while unverified */
#define MC_AUTH_PENDING_BYTES (8u << 20)
#define MC_AUTH_HOLD_US 1000000u      /* longest wait for a manifest */
#define MC_AUTH_VERIFY_PER_S 3000     /* signature checks per second, at most */
#define MC_AUTH_OTHER_PER_S 100       /* and apart: manifests under another key */

typedef struct {
    uint8_t pk[MC_KEY_PUBLIC];
    uint8_t sk[MC_KEY_SECRET];
} mc_signing_key;

/* Loads the key in `path`, or creates it (mode 0600, parent directory 0700)
 * when the file does not exist. *created says which. A key file readable by
 * others is refused (MC_EINVAL), as ssh does. */
int mc_key_load_or_create(const char *path, mc_signing_key *key, int *created);

/* A fresh key in memory (tests, or a throw-away sender). */
int mc_key_generate(mc_signing_key *key);

/* The default key file: $XDG_CONFIG_HOME/mcshare/sender.key or
 * ~/.config/mcshare/sender.key. Returns 0 or MC_ETOOBIG. */
int mc_key_default_path(char *out, size_t cap, const char *file);

/* The 80-bit fingerprint (BLAKE2b of the public key) and its text form
 * "xxxx-xxxx-xxxx-xxxx-xxxx" (lower-case hex). */
void mc_key_fingerprint(const uint8_t pk[MC_KEY_PUBLIC], uint8_t fpr[MC_FPR_BYTES]);
/* Ed25519 over msg. Fuzz builds (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
 * check a stand-in instead: a signature starting "ok" is valid, so the
 * fuzzer reaches what follows the check. */
void mc_sign(const mc_signing_key *key, const uint8_t *msg, size_t len, uint8_t sig[MC_SIG_BYTES]);
int mc_sig_valid(const uint8_t *sig, const uint8_t *msg, size_t len, const uint8_t *pk);
void mc_fpr_format(const uint8_t fpr[MC_FPR_BYTES], char out[MC_FPR_CHARS]);
/* Parses the text form; dashes, spaces and case do not matter. */
int mc_fpr_parse(const char *text, uint8_t fpr[MC_FPR_BYTES]);

/* A parsed manifest; hashes and key point into the packet. */
typedef struct {
    uint32_t session, number; /* number: the manifest's own counter (header seq) */
    uint64_t wall_us;         /* sender's CLOCK_REALTIME when it was signed */
    const uint8_t *pk;
    const uint8_t *hashes;    /* count x MC_PKT_HASH */
    int count;
} mc_manifest;

/* Checks the layout (not the signature). 0 or a negative MC_E* code. */
int mc_manifest_parse(const uint8_t *pkt, size_t len, mc_manifest *m);
/* Checks the signature of a parsed manifest: 0 or MC_EFIELD. */
int mc_manifest_verify(const uint8_t *pkt, size_t len);

/* ---- sender ---- */
typedef struct mc_auth_tx mc_auth_tx;
typedef void (*mc_auth_emit)(void *ctx, const uint8_t *pkt, size_t len);

int mc_auth_tx_create(const mc_signing_key *key, uint32_t session, size_t mtu, mc_auth_tx **out);
void mc_auth_tx_destroy(mc_auth_tx *a);
/* Records a datagram that was just sent; sends a manifest when full. */
void mc_auth_tx_add(mc_auth_tx *a, const uint8_t *pkt, size_t len, mc_auth_emit emit, void *ctx);
/* Signs and sends what was recorded since the last manifest (if anything),
 * with the previous manifest's list again. `final` also sends this list's
 * second listing at once (nothing will follow it). */
void mc_auth_tx_flush(mc_auth_tx *a, int final, mc_auth_emit emit, void *ctx);
uint64_t mc_auth_tx_manifests(const mc_auth_tx *a);

/* ---- viewer ---- */
typedef struct mc_auth_rx mc_auth_rx;
typedef void (*mc_auth_release)(void *ctx, const uint8_t *pkt, size_t len);

typedef struct {
    uint64_t manifests;      /* manifests verified and used */
    uint64_t verified;       /* datagrams released */
    uint64_t bad_manifest;   /* malformed manifests, or bad signatures (junk, damage) */
    uint64_t wrong_key;      /* validly signed, but by a key we do not trust */
    uint64_t replayed;       /* manifests older than the window or of an old session */
    uint64_t unverified;     /* datagrams dropped: no manifest vouched for them in time */
    uint64_t evicted;        /* datagrams dropped because the holding area was full */
    uint64_t verify_skipped; /* manifests not checked: over the per-second budget */
    int key_known;           /* a key is trusted (pinned or adopted) */
    uint8_t fpr[MC_FPR_BYTES];
    uint8_t wrong_fpr[MC_FPR_BYTES]; /* the last untrusted key seen (if wrong_key) */
    int pending;             /* datagrams held now */
    size_t pending_bytes;
} mc_auth_rx_stats;

/* fpr: the fingerprint to trust; NULL = trust the first key whose manifest
 * verifies (trust on first use) and only that key afterwards. */
int mc_auth_rx_create(const uint8_t *fpr, mc_auth_rx **out);
void mc_auth_rx_destroy(mc_auth_rx *a);
/* Back to the state just after create (same pinned fingerprint, callbacks
 * and memory): for fuzzers and tests that run many inputs. */
void mc_auth_rx_reset(mc_auth_rx *a);
/* Takes one datagram. Releases (through cb, in arrival order) every held
 * datagram that a manifest now vouches for, and this one if it is already
 * vouched for. Returns 0, or a negative MC_E* code for a datagram refused
 * outright (not mcshare, bad or untrusted manifest). */
int mc_auth_rx_push(mc_auth_rx *a, const uint8_t *pkt, size_t len, uint64_t now_us,
                    mc_auth_release cb, void *ctx);
void mc_auth_rx_get_stats(const mc_auth_rx *a, mc_auth_rx_stats *st);
/* Optional: told of every held datagram dropped without a manifest (both
 * copies of its manifest lost, or forged), so the viewer's loss figures can
 * tell the network's losses from these. */
void mc_auth_rx_on_drop(mc_auth_rx *a, mc_auth_release cb, void *ctx);

/* ---- the control channel's WELCOME ---- */

/* The sender proves to a connecting viewer that it holds the key the
 * viewer trusts: it signs "mcshare welcome v1", the session and the
 * viewer's random 16-byte challenge. */
void mc_auth_sign_welcome(const mc_signing_key *key, uint32_t session, const uint8_t nonce[16],
                          uint8_t sig[MC_SIG_BYTES]);
int mc_auth_verify_welcome(const uint8_t pk[MC_KEY_PUBLIC], uint32_t session,
                           const uint8_t nonce[16], const uint8_t sig[MC_SIG_BYTES]);
/* The trusted key, once known: 0, or MC_ESTATE before any manifest verified. */
int mc_auth_rx_key(const mc_auth_rx *a, uint8_t pk[MC_KEY_PUBLIC]);

/* ---- confidentiality: a class passphrase ---- */

/* A SEALED datagram: a common header (type 7; session, seq and ts_us those
 * of the packet inside), a random 24-byte nonce, then the whole inner
 * datagram encrypted with XChaCha20-Poly1305 (the header is the associated
 * data) and its 16-byte tag. Manifests are never sealed; they sign the
 * sealed datagrams as sent. */
#define MC_SEAL_KEY 32
#define MC_SEAL_NONCE 24
#define MC_SEAL_OVERHEAD (20 + MC_SEAL_NONCE + 16)

/* The key from a passphrase: Argon2id (libsodium's interactive limits, a
 * fraction of a second) salted with the group and port, so one passphrase
 * gives different keys for different classes. */
int mc_seal_derive(const char *pass, size_t pass_len, const char *group, uint16_t port,
                   uint8_t key[MC_SEAL_KEY]);
/* Reads a passphrase file: its first line, without the newline; at least 8
 * characters. Returns 0 or a negative MC_E* / errno code. */
int mc_seal_read_passphrase(const char *path, char *out, size_t cap, size_t *len);
/* Both: the key for GROUP:PORT from a passphrase file. Says what is wrong
 * on stderr, as `prog`, and returns non-zero on failure. */
int mc_seal_key_from_file(const char *prog, const char *path, const char *group, uint16_t port,
                          uint8_t key[MC_SEAL_KEY]);
/* Seals `in` into out (cap >= len + MC_SEAL_OVERHEAD): returns the sealed
 * length or a negative code. */
int mc_seal(const uint8_t key[MC_SEAL_KEY], const uint8_t *in, size_t len, uint8_t *out, size_t cap);
/* Opens a SEALED datagram: returns the inner length, or MC_EFIELD when it
 * is not one or was not sealed with this key (or was modified). */
int mc_unseal(const uint8_t key[MC_SEAL_KEY], const uint8_t *in, size_t len, uint8_t *out,
              size_t cap);

#endif
