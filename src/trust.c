/* The viewer's trust policy and its known-senders file (mc/trust.h). */
#include "mc/trust.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mc/common.h"
#include "mc/files.h"
#include "mc/net.h"

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* One line [p, end): 1 when it is blank or a comment, 0 when it is a valid
 * entry (endpoint and fingerprint returned), -1 when damaged. */
static int parse_line(const char *p, const char *end, char *ep, size_t ep_cap,
                      uint8_t fpr[MC_FPR_BYTES])
{
    while (p < end && is_space(*p))
        p++;
    if (p == end || *p == '#')
        return 1;
    const char *t1 = p;
    while (p < end && !is_space(*p))
        p++;
    size_t l1 = (size_t)(p - t1);
    while (p < end && is_space(*p))
        p++;
    const char *t2 = p;
    while (p < end && !is_space(*p) && *p != '#')
        p++;
    size_t l2 = (size_t)(p - t2);
    while (p < end && is_space(*p))
        p++;
    if (p < end && *p != '#')
        return -1; /* something after the fingerprint */
    char a[64], b[64], group[64];
    uint16_t port = 0;
    if (!l1 || l1 >= sizeof(a) || !l2 || l2 >= sizeof(b))
        return -1;
    memcpy(a, t1, l1);
    a[l1] = 0;
    memcpy(b, t2, l2);
    b[l2] = 0;
    /* GROUP:PORT, or relay:HOST:PORT for a broadcast seen through mcrelay. */
    int relay_ok = !strncmp(a, "relay:", 6) && strchr(a + 6, ':') && a[6] != ':';
    if ((!relay_ok && (!strchr(a, ':') || mc_parse_endpoint(a, group, sizeof(group), &port))) ||
        mc_fpr_parse(b, fpr) || l1 >= ep_cap)
        return -1;
    memcpy(ep, a, l1 + 1);
    return 0;
}

int mc_trust_scan(const char *text, size_t len, const char *endpoint, uint8_t fpr[MC_FPR_BYTES],
                  int *bad_line)
{
    int found = 0, line = 0;
    *bad_line = 0;
    for (size_t i = 0; i < len;) {
        const char *s = text + i, *nl = memchr(s, '\n', len - i);
        const char *e = nl ? nl : text + len;
        line++;
        char ep[64];
        uint8_t f[MC_FPR_BYTES];
        int r = memchr(s, 0, (size_t)(e - s)) ? -1 : parse_line(s, e, ep, sizeof(ep), f);
        if (r < 0) {
            *bad_line = line;
            return MC_EFIELD;
        }
        if (r == 0 && !strcmp(ep, endpoint)) {
            memcpy(fpr, f, MC_FPR_BYTES);
            found = 1;
        }
        i = (size_t)(e - text) + 1;
    }
    return found;
}

/* Reads the file: 1 found (t->fpr set), 0 not found or no file, or an
 * error with t->error set. */
static int known_read(mc_trust *t, char **text, size_t *len, uint8_t fpr[MC_FPR_BYTES])
{
    int err = mc_read_file(t->file, MC_TRUST_MAX_FILE, text, len);
    if (err == -ENOENT || err == -ENOTDIR) /* never written: nothing to lose (saving says why) */
        return 0;
    if (err) {
        snprintf(t->error, sizeof(t->error), "cannot read the known senders file %s: %s%s",
                 t->file, err == MC_ETOOBIG ? "larger than 1 MiB" : mc_strerror(err),
                 err == -EISDIR || err == -EINVAL ? " (give a regular file)" : "");
        return MC_EFIELD;
    }
    int bad = 0;
    int r = mc_trust_scan(*text, *len, t->endpoint, fpr, &bad);
    if (r < 0) {
        /* Show the line itself, cut and made printable. */
        const char *s = *text;
        for (int l = 1; l < bad; l++)
            s = strchr(s, '\n') + 1;
        char shown[96];
        size_t k = 0;
        for (; s[k] && s[k] != '\n' && k < sizeof(shown) - 4; k++)
            shown[k] = (s[k] >= 32 && s[k] < 127) ? s[k] : '?';
        shown[k] = 0;
        snprintf(t->error, sizeof(t->error),
                 "%s:%d: damaged line '%s%s' (each line must be 'GROUP:PORT FINGERPRINT'). "
                 "Fix or delete that line: a key it held would otherwise be forgotten and "
                 "trusted again as new", t->file, bad, shown,
                 s[k] && s[k] != '\n' ? "..." : "");
        free(*text);
        *text = NULL;
        return MC_EFIELD;
    }
    return r;
}

int mc_trust_init(mc_trust *t, const char *group, uint16_t port, const char *trust_text,
                  const char *file)
{
    memset(t, 0, sizeof(*t));
    if (group && !strncmp(group, "relay:", 6)) /* relay:HOST:PORT, as it is */
        snprintf(t->endpoint, sizeof(t->endpoint), "%.63s", group);
    else
        snprintf(t->endpoint, sizeof(t->endpoint), "%s:%u", group ? group : "?", (unsigned)port);
    if (trust_text && mc_fpr_parse(trust_text, t->fpr)) {
        snprintf(t->error, sizeof(t->error), "invalid --trust '%s': expected a fingerprint like "
                 "0123-4567-89ab-cdef-0123 (mcshare prints it)", trust_text);
        return MC_EINVAL;
    }
    if (file) {
        if (snprintf(t->file, sizeof(t->file), "%s", file) >= (int)sizeof(t->file)) {
            snprintf(t->error, sizeof(t->error), "--known-senders: the path is too long");
            return MC_EFIELD;
        }
    } else if (mc_key_default_path(t->file, sizeof(t->file), "known_senders")) {
        snprintf(t->error, sizeof(t->error), "cannot name the known senders file: $HOME or "
                 "$XDG_CONFIG_HOME is too long");
        return MC_EFIELD;
    }
    char *text = NULL;
    size_t len = 0;
    uint8_t fpr[MC_FPR_BYTES];
    int r = known_read(t, &text, &len, fpr);
    free(text);
    if (r < 0)
        return r;
    if (trust_text)
        t->source = MC_TRUST_FLAG; /* --trust wins over the file */
    else if (r == 1) {
        memcpy(t->fpr, fpr, MC_FPR_BYTES);
        t->source = MC_TRUST_FILE;
    }
    return 0;
}

const uint8_t *mc_trust_fpr(const mc_trust *t)
{
    return t->source == MC_TRUST_FIRST_USE ? NULL : t->fpr;
}

/* Adds "ENDPOINT FPR" to the file: read again (another viewer may have
 * written since), a newline added if the last line lacks one, written
 * atomically. 0, or an error with t->save_error set. */
static int remember(mc_trust *t, const char *fpr_text)
{
    char *old = NULL;
    size_t len = 0;
    uint8_t fpr[MC_FPR_BYTES];
    int err = mc_mkdir_parents(t->file);
    if (err) {
        snprintf(t->save_error, sizeof(t->save_error), "cannot create its directory: %s",
                 mc_strerror(err));
        return err;
    }
    int r = known_read(t, &old, &len, fpr);
    if (r < 0) {
        memcpy(t->save_error, t->error, sizeof(t->save_error));
        t->error[0] = 0;
        return r;
    }
    char line[128];
    int n = snprintf(line, sizeof(line), "%s%s %s\n", len && old[len - 1] != '\n' ? "\n" : "",
                     t->endpoint, fpr_text);
    char *text = malloc(len + (size_t)n);
    if (!text) {
        free(old);
        snprintf(t->save_error, sizeof(t->save_error), "out of memory");
        return MC_ENOMEM;
    }
    if (len)
        memcpy(text, old, len);
    memcpy(text + len, line, (size_t)n);
    struct stat st;
    int mode = stat(t->file, &st) ? 0644 : (int)(st.st_mode & 0777);
    err = mc_write_file_atomic(t->file, text, len + (size_t)n, mode, 0);
    free(old);
    free(text);
    if (err)
        snprintf(t->save_error, sizeof(t->save_error), "%s", mc_strerror(err));
    return err;
}

void mc_trust_update(mc_trust *t, const mc_auth_rx_stats *st, const char *prog)
{
    char text[MC_FPR_CHARS];
    if (t->source == MC_TRUST_FIRST_USE && st->key_known && !t->saved) {
        memcpy(t->fpr, st->fpr, MC_FPR_BYTES);
        mc_fpr_format(st->fpr, text);
        if (!remember(t, text)) {
            t->saved = 1;
            mc_log(0, "%s: trusting the sender of %s, key %s (first use; remembered in %s)", prog,
                   t->endpoint, text, t->file);
        } else {
            t->saved = -1;
            mc_log(0, "%s: trusting the sender of %s, key %s, for this run only: it could NOT be "
                   "remembered in %s (%s). Next time any key on %s will again be trusted as "
                   "new, without a check; to pin this one, run with --trust %s", prog,
                   t->endpoint, text, t->file, t->save_error, t->endpoint, text);
        }
    }
    uint64_t now = mc_now_us();
    if (st->wrong_key > t->warned_wrong && now - t->warned_at_us > 5000000u) {
        char other[MC_FPR_CHARS], want[MC_FPR_CHARS];
        mc_fpr_format(st->wrong_fpr, other);
        mc_fpr_format(t->fpr, want);
        int known = t->source != MC_TRUST_FIRST_USE || st->key_known;
        mc_log(0, "%s: WARNING: refused %llu manifests on %s validly signed by key %s, which is "
               "not the trusted %s%s%s.%s", prog,
               (unsigned long long)(st->wrong_key - t->warned_wrong), t->endpoint, other,
               known ? want : "key",
               t->source == MC_TRUST_FLAG ? " (--trust)" : t->source == MC_TRUST_FILE ? " from " : "",
               t->source == MC_TRUST_FILE ? t->file : "",
               t->source == MC_TRUST_FIRST_USE ? "" :
               " Someone may be impersonating the teacher. If the teacher really has a new key, "
               "check its fingerprint and run with --trust, or remove the line from the file.");
        t->warned_wrong = st->wrong_key;
        t->warned_at_us = now;
    }
    if (st->bad_manifest && !t->noted_bad) {
        t->noted_bad = st->bad_manifest;
        mc_log(0, "%s: note: ignoring damaged or forged manifests on %s (their signatures do not "
               "check out; counted as auth_bad). Not an impersonation: nothing was signed.", prog,
               t->endpoint);
    }
}
