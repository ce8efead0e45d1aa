/* jpeg_huffman.c - JPEG entropy decoding: Huffman tables, the bit reader,
 * and the scans of sequential and progressive (DC/AC, first/refinement,
 * EOB runs) frames with restart markers (ITU T.81 annex F and G). */
#include <string.h>

#include "internal.h"
#include "jpeg_internal.h"

const uint8_t dn_jpeg_zigzag[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
};

/* ---- Huffman tables ---- */

dn_status dn_jpeg_huffman_build(jpeg_huffman *t, const uint8_t counts[16], const uint8_t *symbols,
                                const char *name, const char *what)
{
    memset(t, 0, sizeof *t);
    int32_t code = 0, k = 0;
    for (int len = 1; len <= 16; len++) {
        int n = counts[len - 1];
        /* After these codes the next free one must still fit in len bits:
         * otherwise the table is over-subscribed or uses the all-ones code
         * (T.81 C.2; libjpeg refuses both). Checked before any is stored. */
        if (code + n >= (int32_t)1 << len)
            return dn_fail(DN_ERR_FORMAT, "%s: %s: its code lengths are not a valid prefix code (%d codes of up to "
                           "%d bits over-subscribe them)", name, what, k + n, len);
        t->valptr[len] = k;
        t->mincode[len] = code;
        t->maxcode[len] = n ? code + n - 1 : -1;
        for (int i = 0; i < n; i++, k++) {
            t->symbols[k] = symbols[k];
            if (len <= DN_JPEG_FAST_BITS) {
                int shift = DN_JPEG_FAST_BITS - len;
                for (int j = 0; j < 1 << shift; j++) {
                    t->fast_len[((code + i) << shift) + j] = (uint8_t)len;
                    t->fast_sym[((code + i) << shift) + j] = symbols[k];
                }
            }
        }
        code += n;
        code <<= 1;
    }
    t->defined = true;
    return DN_OK;
}

/* ---- the bit reader ----
 * Bits come MSB first from the entropy-coded bytes, where FF 00 stands for
 * FF; at any other FF xx (a marker) or at the end of the data the reader
 * stops and feeds zero bits, counting them in pad. Consuming more than
 * count - pad real bits means the data ran out. */

typedef struct jpeg_bits {
    const uint8_t *data;
    size_t len, pos;
    uint64_t acc; /* the low count bits are the next ones, MSB first */
    int count;
    int pad;      /* zero bits appended after the data stopped */
    bool stopped; /* at a marker or the end */
} jpeg_bits;

static void bits_fill(jpeg_bits *b)
{
    while (b->count <= 56) {
        unsigned byte = 0;
        if (!b->stopped && b->pos < b->len) {
            uint8_t c = b->data[b->pos];
            if (c != 0xFF) {
                byte = c;
                b->pos++;
            } else if (b->pos + 1 < b->len && b->data[b->pos + 1] == 0x00) {
                byte = 0xFF;
                b->pos += 2;
            } else {
                b->stopped = true;
            }
        } else {
            b->stopped = true;
        }
        if (b->stopped)
            b->pad += 8;
        b->acc = b->acc << 8 | byte;
        b->count += 8;
    }
}

/* n bits (0..16) as an unsigned number. */
static inline unsigned bits_get(jpeg_bits *b, int n)
{
    if (n == 0)
        return 0;
    if (b->count < n)
        bits_fill(b);
    b->count -= n;
    return (unsigned)(b->acc >> b->count) & ((1u << n) - 1);
}

/* T.81 F.2.2.1 EXTEND: an n-bit magnitude category value as a signed number. */
static inline int extend(unsigned v, int n)
{
    return n == 0 ? 0 : v < 1u << (n - 1) ? (int)v - (1 << n) + 1 : (int)v;
}

static inline int bits_receive_extend(jpeg_bits *b, int n) { return extend(bits_get(b, n), n); }

/* The next symbol, or -1 for a code the table does not have. */
static inline int huff_decode(jpeg_bits *b, const jpeg_huffman *t)
{
    if (b->count < 16)
        bits_fill(b);
    unsigned look = (unsigned)(b->acc >> (b->count - DN_JPEG_FAST_BITS)) & ((1u << DN_JPEG_FAST_BITS) - 1);
    int len = t->fast_len[look];
    if (len) {
        b->count -= len;
        return t->fast_sym[look];
    }
    unsigned code16 = (unsigned)(b->acc >> (b->count - 16)) & 0xFFFF;
    for (len = DN_JPEG_FAST_BITS + 1; len <= 16; len++) {
        int32_t code = (int32_t)(code16 >> (16 - len));
        if (code <= t->maxcode[len]) {
            b->count -= len;
            return t->symbols[t->valptr[len] + code - t->mincode[len]];
        }
    }
    return -1;
}

static inline bool bits_overrun(const jpeg_bits *b) { return b->count < b->pad; }

/* The real bits left in the reader, which after the last MCU of a scan or
 * interval must be under a byte (the 1-bits that pad the last byte). */
static int bits_left(const jpeg_bits *b) { return b->count - b->pad; }

/* After a scan or restart interval: no whole byte of data left over, and the
 * reader at a marker; *at is where the marker's FF is (fill FFs skipped
 * later). */
static dn_status bits_finish(jpeg_bits *b, const char *name, const jpeg_scan *s, const char *where)
{
    if (bits_left(b) >= 8 || (!b->stopped && b->pos < b->len && b->data[b->pos] != 0xFF))
        return dn_fail(DN_ERR_FORMAT, "%s: scan %d: entropy-coded data goes on after %s", name, s->number, where);
    if (!b->stopped) {
        /* the reader stopped filling early: the next byte is FF; stuffed FF 00
         * would be more data */
        if (b->pos + 1 < b->len && b->data[b->pos + 1] == 0x00)
            return dn_fail(DN_ERR_FORMAT, "%s: scan %d: entropy-coded data goes on after %s", name, s->number,
                           where);
    }
    return DN_OK;
}

/* Reads the RSTn marker that must come after a restart interval and resets
 * the reader after it. */
static dn_status bits_restart(jpeg_bits *b, int *expected, const char *name, const jpeg_scan *s)
{
    dn_status status = bits_finish(b, name, s, "a restart interval");
    if (status != DN_OK)
        return status;
    size_t pos = b->pos;
    while (pos < b->len && b->data[pos] == 0xFF)
        pos++;
    if (pos >= b->len || pos == b->pos)
        return dn_fail(DN_ERR_FORMAT, "%s: scan %d: the data ends where marker RST%d was due", name, s->number,
                       *expected);
    if (b->data[pos] != 0xD0 + *expected)
        return dn_fail(DN_ERR_FORMAT, "%s: scan %d: expected marker RST%d (FF %02X) at byte %zu, found FF %02X",
                       name, s->number, *expected, 0xD0 + *expected, pos - 1, b->data[pos]);
    b->pos = pos + 1;
    b->acc = 0;
    b->count = b->pad = 0;
    b->stopped = false;
    *expected = (*expected + 1) & 7;
    return DN_OK;
}

/* ---- blocks ---- */

/* What a block decoder needs besides the bits. */
typedef struct scan_state {
    jpeg_decoder *d;
    const jpeg_scan *s;
    jpeg_bits bits;
    unsigned eobrun;
    int16_t scratch[64]; /* coefficients of a component that is not stored */
} scan_state;

static inline int16_t clamp16(int v) { return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v); }

static dn_status bad_code(const scan_state *st, const char *what)
{
    return dn_fail(DN_ERR_FORMAT, "%s: scan %d: corrupt entropy-coded data (%s) near byte %zu", st->d->name,
                   st->s->number, what, st->bits.pos);
}

/* DC of one block: the predictor plus the decoded difference. */
static dn_status decode_dc(scan_state *st, jpeg_component *c, int *dc)
{
    int s = huff_decode(&st->bits, &st->d->dc[c->dc_table]);
    if (s < 0)
        return bad_code(st, "a code the DC table does not have");
    if (s > 11)
        return bad_code(st, "a DC magnitude category above 11");
    int v = c->dc_pred + bits_receive_extend(&st->bits, s);
    c->dc_pred = clamp16(v);
    *dc = c->dc_pred;
    return DN_OK;
}

/* Sequential (baseline or extended): a whole block, then its samples. */
static dn_status block_sequential(scan_state *st, jpeg_component *c, int col, int row)
{
    int32_t coef[64] = {0};
    int dc = 0;
    dn_status status = decode_dc(st, c, &dc);
    if (status != DN_OK)
        return status;
    coef[0] = dc;
    const jpeg_huffman *ac = &st->d->ac[c->ac_table];
    for (int k = 1; k < 64;) {
        int rs = huff_decode(&st->bits, ac);
        if (rs < 0)
            return bad_code(st, "a code the AC table does not have");
        int r = rs >> 4, s = rs & 15;
        if (s) {
            k += r;
            if (k > 63)
                return bad_code(st, "a run of zeros past coefficient 63");
            coef[dn_jpeg_zigzag[k]] = bits_receive_extend(&st->bits, s);
            k++;
        } else if (r == 15) {
            k += 16;
        } else {
            break;
        }
    }
    if (c->plane) {
        size_t stride = (size_t)c->stride_blocks * 8;
        dn_jpeg_idct_block(c->plane + (size_t)row * 8 * stride + (size_t)col * 8, stride, coef, c->quant);
    }
    return DN_OK;
}

static int16_t *block_coefs(scan_state *st, jpeg_component *c, int col, int row)
{
    if (!c->coefs)
        return st->scratch;
    return c->coefs + ((size_t)row * (size_t)c->stride_blocks + (size_t)col) * 64;
}

static dn_status block_dc_first(scan_state *st, jpeg_component *c, int col, int row)
{
    int dc = 0;
    dn_status status = decode_dc(st, c, &dc);
    if (status == DN_OK)
        block_coefs(st, c, col, row)[0] = clamp16(dc * (1 << st->s->al));
    return status;
}

static dn_status block_dc_refine(scan_state *st, jpeg_component *c, int col, int row)
{
    int16_t *coef = block_coefs(st, c, col, row);
    if (bits_get(&st->bits, 1))
        coef[0] = (int16_t)(coef[0] | (1 << st->s->al));
    return DN_OK;
}

static dn_status block_ac_first(scan_state *st, jpeg_component *c, int col, int row)
{
    if (st->eobrun > 0) {
        st->eobrun--;
        return DN_OK;
    }
    int16_t *coef = block_coefs(st, c, col, row);
    const jpeg_huffman *ac = &st->d->ac[c->ac_table];
    int se = st->s->se, al = st->s->al;
    for (int k = st->s->ss; k <= se;) {
        int rs = huff_decode(&st->bits, ac);
        if (rs < 0)
            return bad_code(st, "a code the AC table does not have");
        int r = rs >> 4, s = rs & 15;
        if (s) {
            k += r;
            if (k > se)
                return bad_code(st, "a run of zeros past the scan's last coefficient");
            coef[dn_jpeg_zigzag[k]] = clamp16(bits_receive_extend(&st->bits, s) * (1 << al));
            k++;
        } else if (r == 15) {
            k += 16;
        } else {
            st->eobrun = (1u << r) - 1 + bits_get(&st->bits, r);
            break;
        }
    }
    return DN_OK;
}

/* One correction bit for a coefficient already non-zero (G.1.2.3). */
static void refine_nonzero(scan_state *st, int16_t *coef, int p1)
{
    if (bits_get(&st->bits, 1) && (*coef & p1) == 0)
        *coef = clamp16(*coef >= 0 ? *coef + p1 : *coef - p1);
}

static dn_status block_ac_refine(scan_state *st, jpeg_component *c, int col, int row)
{
    int16_t *coef = block_coefs(st, c, col, row);
    const jpeg_huffman *ac = &st->d->ac[c->ac_table];
    int se = st->s->se, p1 = 1 << st->s->al;
    int k = st->s->ss;
    if (st->eobrun == 0) {
        for (; k <= se; k++) {
            int rs = huff_decode(&st->bits, ac);
            if (rs < 0)
                return bad_code(st, "a code the AC table does not have");
            int r = rs >> 4, s = rs & 15, value = 0;
            if (s) {
                if (s != 1)
                    return bad_code(st, "a refinement magnitude other than 1");
                value = bits_get(&st->bits, 1) ? p1 : -p1;
            } else if (r != 15) {
                st->eobrun = (1u << r) + bits_get(&st->bits, r);
                break;
            }
            /* skip r zero coefficients (refining the non-zero ones passed),
             * then place the new one */
            for (; k <= se; k++) {
                int16_t *z = &coef[dn_jpeg_zigzag[k]];
                if (*z != 0)
                    refine_nonzero(st, z, p1);
                else if (r-- == 0)
                    break;
            }
            if (value) {
                if (k > se)
                    return bad_code(st, "a new coefficient past the scan's last one");
                coef[dn_jpeg_zigzag[k]] = (int16_t)value;
            }
        }
    }
    if (st->eobrun > 0) {
        for (; k <= se; k++) {
            int16_t *z = &coef[dn_jpeg_zigzag[k]];
            if (*z != 0)
                refine_nonzero(st, z, p1);
        }
        st->eobrun--;
    }
    return DN_OK;
}

typedef dn_status (*block_fn)(scan_state *st, jpeg_component *c, int col, int row);

static block_fn block_decoder(const jpeg_decoder *d, const jpeg_scan *s)
{
    if (!d->progressive)
        return block_sequential;
    if (s->ss == 0)
        return s->ah == 0 ? block_dc_first : block_dc_refine;
    return s->ah == 0 ? block_ac_first : block_ac_refine;
}

/* ---- scans ---- */

dn_status dn_jpeg_decode_scan(jpeg_decoder *d, const jpeg_scan *s)
{
    scan_state st;
    memset(&st, 0, sizeof st);
    st.d = d;
    st.s = s;
    st.bits.data = d->bytes;
    st.bits.len = d->len;
    st.bits.pos = d->pos;
    block_fn decode = block_decoder(d, s);
    bool single = s->n == 1;
    int mcus_x = single ? d->comp[s->index[0]].blocks_w : d->mcus_x;
    int mcus_y = single ? d->comp[s->index[0]].blocks_h : d->mcus_y;
    size_t total = (size_t)mcus_x * (size_t)mcus_y;
    size_t interval = d->restart_interval > 0 ? (size_t)d->restart_interval : total;
    int expected_rst = 0;
    for (int i = 0; i < s->n; i++)
        d->comp[s->index[i]].dc_pred = 0;

    for (size_t mcu = 0; mcu < total; mcu++) {
        if (mcu > 0 && mcu % interval == 0) {
            dn_status status = bits_restart(&st.bits, &expected_rst, d->name, s);
            if (status != DN_OK)
                return status;
            st.eobrun = 0;
            for (int i = 0; i < s->n; i++)
                d->comp[s->index[i]].dc_pred = 0;
        }
        int mx = (int)(mcu % (size_t)mcus_x), my = (int)(mcu / (size_t)mcus_x);
        for (int i = 0; i < s->n; i++) {
            jpeg_component *c = &d->comp[s->index[i]];
            int bw = single ? 1 : c->h, bh = single ? 1 : c->v;
            for (int by = 0; by < bh; by++)
                for (int bx = 0; bx < bw; bx++) {
                    dn_status status = decode(&st, c, mx * bw + bx, my * bh + by);
                    if (status != DN_OK)
                        return status;
                }
        }
        if (bits_overrun(&st.bits))
            return dn_fail(DN_ERR_FORMAT, "%s: scan %d: truncated or corrupt: the entropy-coded data ends in MCU "
                           "%zu of %zu", d->name, s->number, mcu + 1, total);
    }
    dn_status status = bits_finish(&st.bits, d->name, s, "the last MCU");
    if (status != DN_OK)
        return status;
    d->pos = st.bits.pos;
    return DN_OK;
}

dn_status dn_jpeg_skip_scan(jpeg_decoder *d, const jpeg_scan *s)
{
    size_t pos = d->pos;
    for (; pos + 1 < d->len; pos++) {
        uint8_t next = d->bytes[pos + 1];
        if (d->bytes[pos] == 0xFF && next != 0x00 && next != 0xFF && (next < 0xD0 || next > 0xD7))
            break;
    }
    if (pos + 1 >= d->len)
        return dn_fail(DN_ERR_FORMAT, "%s: scan %d: truncated: the data ends inside the scan", d->name, s->number);
    d->pos = pos;
    return DN_OK;
}
