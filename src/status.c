/* The viewer's one sentence to its user (mc/status.h). */
#include "mc/status.h"

#include <stdio.h>
#include <string.h>

#include "mc/auth.h"
#include "mc/wire.h"

void mc_status_init(mc_status *s) { memset(s, 0, sizeof(*s)); }

void mc_status_update(mc_status *s, const mc_receiver_stats *st, uint64_t now_us)
{
    uint64_t cur[6] = {st->bad_version, st->sealed_locked, st->sealed_bad, st->auth.wrong_key,
                       st->auth.unverified, st->foreign_session};
    for (int i = 0; i < 6; i++) {
        if (cur[i] > s->prev[i])
            s->last_us[i] = now_us;
        s->prev[i] = cur[i];
    }
    if (st->wire_version_seen)
        s->version_seen = st->wire_version_seen;
}

static int recent(const mc_status *s, int i, uint64_t now_us)
{
    return s->last_us[i] && now_us - s->last_us[i] < MC_STATUS_RECENT_US;
}

const char *mc_status_text(const mc_status *s, const mc_receiver_stats *st, const char *group,
                           unsigned port, uint64_t now_us, char *out, size_t cap)
{
    /* A live picture that keeps coming is the answer itself; refusals
     * matter when they are why there is no picture. */
    int live = st->state == MC_RX_LIVE && now_us - st->last_packet_us < MC_STATUS_SILENT_US;
    char fpr[MC_FPR_CHARS];
    out[0] = 0;
    if (!live && recent(s, MC_ST_VERSION, now_us) && s->version_seen > MC_WIRE_VERSION)
        snprintf(out, cap, "This broadcast needs a newer mcview (it speaks protocol version %d, "
                 "this mcview version %d)", s->version_seen, MC_WIRE_VERSION);
    else if (!live && recent(s, MC_ST_VERSION, now_us))
        snprintf(out, cap, "This broadcast comes from an older mcshare (protocol version %d; this "
                 "mcview speaks version %d): update mcshare on the teacher's computer",
                 s->version_seen, MC_WIRE_VERSION);
    else if (!live && recent(s, MC_ST_LOCKED, now_us))
        snprintf(out, cap, "This broadcast is protected by a passphrase "
                 "(--passphrase-file FILE)");
    else if (!live && recent(s, MC_ST_BADPASS, now_us))
        snprintf(out, cap, "This broadcast is protected: the passphrase given does not open it");
    else if (!live && recent(s, MC_ST_WRONGKEY, now_us)) {
        mc_fpr_format(st->auth.wrong_fpr, fpr);
        snprintf(out, cap, "Refusing the broadcast on %s:%u: it is signed by key %s, not the "
                 "teacher's key this computer trusts (a new key? check it with the teacher, "
                 "then run mcview --trust %s)", group, port, fpr, fpr);
    } else if (!live && recent(s, MC_ST_UNSIGNED, now_us) && !st->auth.manifests)
        snprintf(out, cap, "The broadcast on %s:%u is not signed (--insecure shows it "
                 "anyway)", group, port);
    else if (st->state == MC_RX_WAITING)
        snprintf(out, cap, "Waiting for a broadcast on %s:%u …", group, port);
    else if (st->state == MC_RX_ENDED)
        snprintf(out, cap, "Broadcast ended");
    else if (!live)
        snprintf(out, cap, "No signal from the teacher's computer — waiting …");
    else if (recent(s, MC_ST_FOREIGN, now_us))
        snprintf(out, cap, "Another computer is also broadcasting on %s:%u; showing the first "
                 "one (session %08x)", group, port, st->session);
    else if (recent(s, MC_ST_WRONGKEY, now_us)) {
        mc_fpr_format(st->auth.wrong_fpr, fpr);
        snprintf(out, cap, "Another computer is also broadcasting on %s:%u, signed by key %s: "
                 "refused; showing the trusted teacher's broadcast", group, port, fpr);
    }
    return out;
}
