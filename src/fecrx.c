/* FEC recovery on the receiver. Packets are kept in a ring indexed by
 * sequence number, in symbol form (2 length bytes + packet), so the ring
 * slots of missing packets double as the output buffers of the decoder and
 * nothing is allocated per packet. */
#include "fecrx.h"

#include <stdlib.h>
#include <string.h>

#include "mc/common.h"
#include "mc/fec.h"
#include "pixel_loop.h"


typedef struct {
    uint32_t seq;
    uint16_t used; /* bytes of symbol content (data: 2 + packet; parity: sym_len) */
    uint8_t valid;
    uint8_t *sym;  /* slot_bytes */
} slot;

typedef struct {
    uint32_t first_seq;
    uint8_t k, p;
    uint8_t used; /* the entry describes a block (open or done) */
    uint8_t open; /* still missing data */
    uint16_t sym_len;
} block;

struct mc__fecrx {
    slot ring[MC__FEC_RING];
    uint8_t *mem;
    size_t slot_bytes; /* the session's mtu + 2: what a symbol can take */
    size_t mem_slot;   /* slot size mem was allocated with */
    block blocks[MC__FEC_BLOCKS];
    int next_block;
    mc__fec_stats st;
};

int mc__fecrx_create(mc__fecrx **out)
{
    mc__fecrx *f = calloc(1, sizeof(*f));
    if (!f)
        return MC_ENOMEM;
    *out = f;
    return 0;
}

/* The ring is sized by the session's announced mtu (300 KB at the default
 * 1200 bytes, not 2.3 MB for the largest possible datagrams) and allocated
 * when the session's first packet is stored, so a receiver that never hears
 * a session costs nothing. */
static int ensure_ring(mc__fecrx *f)
{
    if (f->mem && f->mem_slot == f->slot_bytes)
        return 1;
    free(f->mem);
    f->mem = malloc((size_t)MC__FEC_RING * f->slot_bytes);
    f->mem_slot = f->mem ? f->slot_bytes : 0;
    if (!f->mem)
        return 0;
    for (int i = 0; i < MC__FEC_RING; i++)
        f->ring[i].sym = f->mem + (size_t)i * f->slot_bytes;
    return 1;
}

void mc__fecrx_destroy(mc__fecrx *f)
{
    if (!f)
        return;
    free(f->mem);
    free(f);
}

static void close_block(mc__fecrx *f, block *b, int complete)
{
    if (b->open && !complete)
        f->st.unrecoverable++;
    b->open = 0;
}

MC_PIXEL_LOOP
void mc__fecrx_reset(mc__fecrx *f, size_t mtu)
{
    f->slot_bytes = mtu + 2;
    for (int i = 0; i < MC__FEC_RING; i++)
        f->ring[i].valid = 0;
    for (int i = 0; i < MC__FEC_BLOCKS; i++)
        f->blocks[i].used = f->blocks[i].open = 0;
}

void mc__fecrx_clear(mc__fecrx *f)
{
    mc__fecrx_reset(f, f->slot_bytes ? f->slot_bytes - 2 : 0);
    f->slot_bytes = 0;
    f->next_block = 0;
    memset(&f->st, 0, sizeof(f->st));
}

void mc__fecrx_stats(const mc__fecrx *f, mc__fec_stats *st) { *st = f->st; }

static slot *find(mc__fecrx *f, uint32_t seq)
{
    slot *s = &f->ring[seq % MC__FEC_RING];
    return s->valid && s->seq == seq ? s : NULL;
}

/* Tries to complete block b. Returns 1 when nothing is missing any more,
 * 0 to keep waiting, -1 when it can never be completed. */
static int try_block(mc__fecrx *f, block *b, mc__fec_deliver deliver, void *ctx)
{
    int k = b->k, p = b->p, have = 0, missing = 0;
    uint8_t present[MC_FEC_MAX_K + MC_FEC_MAX_P];
    uint8_t *syms[MC_FEC_MAX_K + MC_FEC_MAX_P];
    for (int i = 0; i < k + p; i++) {
        slot *s = find(f, b->first_seq + (uint32_t)i);
        present[i] = s && s->used <= b->sym_len;
        have += present[i];
        if (i < k && !present[i])
            missing++;
        syms[i] = s ? s->sym : NULL;
    }
    if (missing == 0)
        return 1;
    if (have < k)
        return 0; /* wait: more parity or the late data may still come */
    for (int i = 0; i < k + p; i++) {
        slot *s = &f->ring[(b->first_seq + (uint32_t)i) % MC__FEC_RING];
        if (present[i]) {
            memset(s->sym + s->used, 0, b->sym_len - s->used); /* the code covers the padding */
        } else if (i < k) {
            /* Claim the slot as the output buffer, unless newer traffic owns it. */
            if (s->valid && mc_seq_lt(b->first_seq + (uint32_t)i, s->seq))
                return -1;
            s->valid = 0;
            syms[i] = s->sym;
        }
    }
    if (mc_fec_recover(k, p, b->sym_len, present, syms) != missing)
        return -1;
    for (int i = 0; i < k; i++) {
        if (present[i])
            continue;
        slot *s = &f->ring[(b->first_seq + (uint32_t)i) % MC__FEC_RING];
        size_t len = (size_t)(s->sym[0] << 8 | s->sym[1]);
        if (len < MC_HDR_BYTES || len + 2 > b->sym_len) {
            f->st.bad_parity++; /* parity that does not belong to this data */
            continue;
        }
        s->seq = b->first_seq + (uint32_t)i;
        s->used = (uint16_t)(len + 2);
        s->valid = 1;
        f->st.recovered++;
        deliver(ctx, s->sym + 2, len);
    }
    return 1;
}

static void store(mc__fecrx *f, uint32_t seq, const uint8_t *data, size_t len, int as_symbol)
{
    slot *s = &f->ring[seq % MC__FEC_RING];
    size_t off = as_symbol ? 0 : 2;
    if (len + off > f->slot_bytes || !ensure_ring(f))
        return;
    s->seq = seq;
    s->valid = 1;
    s->used = (uint16_t)(len + off);
    if (!as_symbol) {
        s->sym[0] = (uint8_t)(len >> 8);
        s->sym[1] = (uint8_t)len;
    }
    memcpy(s->sym + off, data, len);
}

/* The known block (open or done) containing seq, data or parity part. */
static block *block_of(mc__fecrx *f, uint32_t seq)
{
    for (int i = 0; i < MC__FEC_BLOCKS; i++) {
        block *b = &f->blocks[i];
        if (b->used && !mc_seq_lt(seq, b->first_seq) &&
            mc_seq_lt(seq, b->first_seq + (uint32_t)(b->k + b->p)))
            return b;
    }
    return NULL;
}

void mc__fecrx_data(mc__fecrx *f, uint32_t seq, const uint8_t *pkt, size_t len,
                    mc__fec_deliver deliver, void *ctx)
{
    store(f, seq, pkt, len, 0);
    if (!f->mem)
        return; /* out of memory: no FEC, the refresh still repairs */
    block *b = block_of(f, seq);
    int rc = b && b->open ? try_block(f, b, deliver, ctx) : 0;
    if (rc)
        close_block(f, b, rc > 0);
}

void mc__fecrx_parity(mc__fecrx *f, uint32_t seq, const mc_parity *p, mc__fec_deliver deliver,
                      void *ctx)
{
    /* The parity packet must sit where its header says. */
    if (seq != p->first_seq + p->k + p->index) {
        f->st.bad_parity++;
        return;
    }
    store(f, seq, p->sym, p->sym_len, 1);
    if (!f->mem)
        return;
    block *b = block_of(f, seq);
    if (b && (b->first_seq != p->first_seq || b->k != p->k || b->p != p->p ||
              b->sym_len != p->sym_len)) {
        f->st.bad_parity++;
        return;
    }
    if (b && !b->open)
        return; /* already complete: a late parity packet is not needed */
    if (!b) {
        b = &f->blocks[f->next_block];
        f->next_block = (f->next_block + 1) % MC__FEC_BLOCKS;
        close_block(f, b, 0); /* the oldest block leaves; if incomplete, it failed */
        *b = (block){.first_seq = p->first_seq, .k = p->k, .p = p->p, .sym_len = p->sym_len,
                     .used = 1, .open = 1};
        f->st.blocks++;
    }
    int rc = try_block(f, b, deliver, ctx);
    if (rc)
        close_block(f, b, rc > 0);
}
