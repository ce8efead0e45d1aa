/* jpeg.c - a strict JPEG reader: the marker segments (SOF, DHT, DQT, DRI,
 * SOS, APPn), the order of scans, and the gray image they make. */
#include <stdio.h>
#include <string.h>

#include "digitnet/image.h"
#include "fileio.h"
#include "internal.h"
#include "jpeg_internal.h"

/* Largest JPEG file read. */
#define DN_JPEG_MAX_FILE_BYTES ((size_t)1 << 30)

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

/* ---- marker segments ---- */

/* The payload of the segment whose length field is at d->pos; moves d->pos
 * past it. */
static dn_status segment(jpeg_decoder *d, uint8_t marker, const uint8_t **data, size_t *len)
{
    if (d->len - d->pos < 2)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated: the data ends in the length of marker FF %02X at byte %zu",
                       d->name, marker, d->pos - 2);
    size_t n = be16(d->bytes + d->pos);
    if (n < 2)
        return dn_fail(DN_ERR_FORMAT, "%s: marker FF %02X at byte %zu has length %zu (at least 2)", d->name, marker,
                       d->pos - 2, n);
    if (n > d->len - d->pos)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated: marker FF %02X at byte %zu has %zu bytes, the file %zu more",
                       d->name, marker, d->pos - 2, n, d->len - d->pos);
    *data = d->bytes + d->pos + 2;
    *len = n - 2;
    d->pos += n;
    return DN_OK;
}

static dn_status parse_dqt(jpeg_decoder *d, const uint8_t *p, size_t n)
{
    while (n > 0) {
        int pq = p[0] >> 4, tq = p[0] & 15;
        if (pq > 1 || tq > 3)
            return dn_fail(DN_ERR_FORMAT, "%s: DQT: table %d of precision %d (expected tables 0..3, precision 0 "
                           "or 1)", d->name, tq, pq);
        size_t size = pq ? 128 : 64;
        if (n - 1 < size)
            return dn_fail(DN_ERR_FORMAT, "%s: DQT: table %d needs %zu bytes, the segment has %zu", d->name, tq,
                           size, n - 1);
        for (int k = 0; k < 64; k++) {
            unsigned v = pq ? be16(p + 1 + 2 * k) : p[1 + k];
            if (v == 0)
                return dn_fail(DN_ERR_FORMAT, "%s: DQT: table %d has a quantisation value of 0", d->name, tq);
            d->quant[tq][dn_jpeg_zigzag[k]] = (uint16_t)v;
        }
        d->quant_defined[tq] = true;
        p += 1 + size;
        n -= 1 + size;
    }
    return DN_OK;
}

static dn_status parse_dht(jpeg_decoder *d, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (n < 17)
            return dn_fail(DN_ERR_FORMAT, "%s: DHT: %zu bytes left, a table needs at least 17", d->name, n);
        int tc = p[0] >> 4, th = p[0] & 15;
        if (tc > 1 || th > 3)
            return dn_fail(DN_ERR_FORMAT, "%s: DHT: class %d table %d (expected class 0 or 1, table 0..3)", d->name,
                           tc, th);
        size_t total = 0;
        for (int i = 0; i < 16; i++)
            total += p[1 + i];
        if (total > 256 || total > n - 17)
            return dn_fail(DN_ERR_FORMAT, "%s: DHT: %s table %d has %zu symbols, %s", d->name, tc ? "AC" : "DC", th,
                           total, total > 256 ? "more than 256" : "more than the segment holds");
        char what[32];
        snprintf(what, sizeof what, "DHT %s table %d", tc ? "AC" : "DC", th);
        dn_status status = dn_jpeg_huffman_build(tc ? &d->ac[th] : &d->dc[th], p + 1, p + 17, d->name, what);
        if (status != DN_OK)
            return status;
        p += 17 + total;
        n -= 17 + total;
    }
    return DN_OK;
}

static dn_status parse_dri(jpeg_decoder *d, const uint8_t *p, size_t n)
{
    if (n != 2)
        return dn_fail(DN_ERR_FORMAT, "%s: DRI has %zu bytes of data (expected 2)", d->name, n);
    d->restart_interval = (int)be16(p);
    return DN_OK;
}

static void parse_app(jpeg_decoder *d, uint8_t marker, const uint8_t *p, size_t n)
{
    if (marker == 0xE0 && n >= 5 && memcmp(p, "JFIF\0", 5) == 0)
        d->jfif = true;
    if (marker == 0xEE && n >= 12 && memcmp(p, "Adobe", 5) == 0) {
        d->adobe = true;
        d->adobe_transform = p[11];
    }
    if (marker == 0xE1 && d->orientation == 0)
        d->orientation = dn_jpeg_exif_orientation(p, n);
}

static int div_ceil(int a, int b) { return (a + b - 1) / b; }

static dn_status parse_sof(jpeg_decoder *d, uint8_t marker, const uint8_t *p, size_t n)
{
    if (d->have_frame)
        return dn_fail(DN_ERR_FORMAT, "%s: a second frame header (SOF%d)", d->name, marker - 0xC0);
    if (n < 6)
        return dn_fail(DN_ERR_FORMAT, "%s: SOF%d has %zu bytes (at least 6)", d->name, marker - 0xC0, n);
    int precision = p[0], height = (int)be16(p + 1), width = (int)be16(p + 3), ncomp = p[5];
    if (precision != 8)
        return dn_fail(precision == 12 ? DN_ERR_UNSUPPORTED : DN_ERR_FORMAT,
                       "%s: %d-bit samples%s; digitnet reads 8-bit JPEG", d->name, precision,
                       precision == 12 ? " (12-bit JPEG) are not supported" : " are not valid in JPEG");
    if (n != 6 + 3 * (size_t)ncomp)
        return dn_fail(DN_ERR_FORMAT, "%s: SOF%d has %zu bytes, %d components need %d", d->name, marker - 0xC0, n,
                       ncomp, 6 + 3 * ncomp);
    if (width == 0)
        return dn_fail(DN_ERR_FORMAT, "%s: image width 0", d->name);
    if (height == 0)
        return dn_fail(DN_ERR_UNSUPPORTED, "%s: image height 0 (to be set by a DNL marker) is not supported",
                       d->name);
    if (width > DN_IMAGE_MAX_SIDE || height > DN_IMAGE_MAX_SIDE ||
        (size_t)width * (size_t)height > DN_IMAGE_MAX_PIXELS)
        return dn_fail(DN_ERR_UNSUPPORTED, "%s: image size %d x %d is beyond digitnet's limit (%d per side, %zu "
                       "pixels)", d->name, width, height, DN_IMAGE_MAX_SIDE, DN_IMAGE_MAX_PIXELS);
    if (ncomp == 0)
        return dn_fail(DN_ERR_FORMAT, "%s: the frame has no components", d->name);
    if (ncomp != 1 && ncomp != 3)
        return dn_fail(DN_ERR_UNSUPPORTED, "%s: %d components%s are not supported; digitnet reads gray (1) and "
                       "YCbCr or RGB (3) JPEG", d->name, ncomp, ncomp == 4 ? " (CMYK or YCCK)" : "");
    d->width = width;
    d->height = height;
    d->ncomp = ncomp;
    d->hmax = d->vmax = 1;
    for (int i = 0; i < ncomp; i++) {
        jpeg_component *c = &d->comp[i];
        const uint8_t *q = p + 6 + 3 * i;
        c->id = q[0];
        c->h = q[1] >> 4;
        c->v = q[1] & 15;
        c->tq = q[2];
        if (c->h < 1 || c->h > 4 || c->v < 1 || c->v > 4)
            return dn_fail(DN_ERR_FORMAT, "%s: component %d has sampling factors %d x %d (each must be 1..4)",
                           d->name, c->id, c->h, c->v);
        if (c->tq > 3)
            return dn_fail(DN_ERR_FORMAT, "%s: component %d uses quantisation table %d (0..3)", d->name, c->id,
                           c->tq);
        for (int j = 0; j < i; j++)
            if (d->comp[j].id == c->id)
                return dn_fail(DN_ERR_FORMAT, "%s: two components have the id %d", d->name, c->id);
        d->hmax = c->h > d->hmax ? c->h : d->hmax;
        d->vmax = c->v > d->vmax ? c->v : d->vmax;
        memset(c->coef_bits, -1, sizeof c->coef_bits);
    }
    d->mcus_x = div_ceil(width, 8 * d->hmax);
    d->mcus_y = div_ceil(height, 8 * d->vmax);
    size_t blocks = 0;
    for (int i = 0; i < ncomp; i++) {
        jpeg_component *c = &d->comp[i];
        c->width = div_ceil(width * c->h, d->hmax);
        c->height = div_ceil(height * c->v, d->vmax);
        c->blocks_w = div_ceil(c->width, 8);
        c->blocks_h = div_ceil(c->height, 8);
        c->stride_blocks = d->mcus_x * c->h;
        c->rows_blocks = d->mcus_y * c->v;
        blocks += (size_t)c->blocks_w * (size_t)c->blocks_h;
    }
    /* Every block of every component takes at least one bit of entropy-coded
     * data (a Huffman code for its DC), so a short file cannot make us
     * allocate for a big image. */
    size_t left = d->len - d->pos;
    if (blocks > left * 8)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated: a %d x %d image of %zu blocks needs at least %zu bytes after "
                       "its frame header, the file has %zu", d->name, width, height, blocks, (blocks + 7) / 8, left);
    d->progressive = marker == 0xC2;
    d->have_frame = true;
    return DN_OK;
}

/* At the first scan: how the components make gray (as libjpeg decides it:
 * JFIF means YCbCr, else an Adobe marker's transform, else the component
 * ids R, G, B mean RGB), and the buffers of the components that do. */
static dn_status start_frame(jpeg_decoder *d)
{
    if (d->ncomp == 1)
        d->color = DN_JPEG_GRAY;
    else if (d->jfif)
        d->color = DN_JPEG_YCC;
    else if (d->adobe)
        d->color = d->adobe_transform == 0 ? DN_JPEG_RGB : DN_JPEG_YCC;
    else
        d->color = d->comp[0].id == 'R' && d->comp[1].id == 'G' && d->comp[2].id == 'B' ? DN_JPEG_RGB
                                                                                        : DN_JPEG_YCC;
    for (int i = 0; i < d->ncomp; i++) {
        jpeg_component *c = &d->comp[i];
        c->needed = i == 0 || d->color == DN_JPEG_RGB;
        if (!c->needed)
            continue;
        size_t blocks = (size_t)c->stride_blocks * (size_t)c->rows_blocks;
        c->plane = dn_calloc(blocks, 64);
        if (d->progressive && c->plane)
            c->coefs = dn_calloc(blocks * 64, sizeof *c->coefs);
        if (!c->plane || (d->progressive && !c->coefs))
            return dn_fail(DN_ERR_NOMEM, "%s: out of memory for a %d x %d image", d->name, d->width, d->height);
    }
    return DN_OK;
}

static dn_status check_progression(jpeg_decoder *d, const jpeg_scan *s)
{
    const char *name = d->name;
    int number = s->number;
    if (!d->progressive) {
        if (s->ss != 0 || s->se != 63 || s->ah != 0 || s->al != 0)
            return dn_fail(DN_ERR_FORMAT, "%s: scan %d: Ss %d, Se %d, Ah %d, Al %d in a sequential JPEG (expected "
                           "0, 63, 0, 0)", name, number, s->ss, s->se, s->ah, s->al);
        for (int i = 0; i < s->n; i++) {
            jpeg_component *c = &d->comp[s->index[i]];
            if (c->scanned)
                return dn_fail(DN_ERR_FORMAT, "%s: scan %d: component %d was in an earlier scan", name, number,
                               c->id);
            c->scanned = true;
        }
        return DN_OK;
    }
    bool dc = s->ss == 0;
    if ((dc && s->se != 0) || (!dc && (s->se < s->ss || s->se > 63)) || s->ah > 13 || s->al > 13 ||
        (s->ah != 0 && s->al != s->ah - 1))
        return dn_fail(DN_ERR_FORMAT, "%s: scan %d: Ss %d, Se %d, Ah %d, Al %d is not a valid progressive scan",
                       name, number, s->ss, s->se, s->ah, s->al);
    if (!dc && s->n != 1)
        return dn_fail(DN_ERR_FORMAT, "%s: scan %d: an AC scan of %d components (must be 1)", name, number, s->n);
    for (int i = 0; i < s->n; i++) {
        jpeg_component *c = &d->comp[s->index[i]];
        if (!dc && c->coef_bits[0] < 0)
            return dn_fail(DN_ERR_FORMAT, "%s: scan %d: AC coefficients of component %d before its DC", name,
                           number, c->id);
        for (int k = s->ss; k <= s->se; k++) {
            int had = c->coef_bits[k];
            if (s->ah == 0 ? had >= 0 : had != s->ah)
                return dn_fail(DN_ERR_FORMAT, "%s: scan %d: coefficient %d of component %d %s", name, number, k,
                               c->id, s->ah == 0 ? "was already in a first scan"
                                                 : "is refined out of order (Ah does not follow the earlier scans)");
            c->coef_bits[k] = (int8_t)s->al;
        }
    }
    return DN_OK;
}

static dn_status parse_sos(jpeg_decoder *d, const uint8_t *p, size_t n, jpeg_scan *s)
{
    if (!d->have_frame)
        return dn_fail(DN_ERR_FORMAT, "%s: a scan (SOS) before the frame header (SOF)", d->name);
    if (++d->scans > DN_JPEG_MAX_SCANS)
        return dn_fail(DN_ERR_UNSUPPORTED, "%s: more than %d scans", d->name, DN_JPEG_MAX_SCANS);
    memset(s, 0, sizeof *s);
    s->number = d->scans;
    if (n < 1 || p[0] < 1 || p[0] > d->ncomp || n != 4 + 2 * (size_t)p[0])
        return dn_fail(DN_ERR_FORMAT, "%s: scan %d: a header of %zu bytes for %d components (frame: %d)", d->name,
                       s->number, n, n ? p[0] : 0, d->ncomp);
    s->n = p[0];
    int blocks = 0;
    for (int i = 0; i < s->n; i++) {
        int id = p[1 + 2 * i], td = p[2 + 2 * i] >> 4, ta = p[2 + 2 * i] & 15, k = 0;
        while (k < d->ncomp && d->comp[k].id != id)
            k++;
        if (k == d->ncomp)
            return dn_fail(DN_ERR_FORMAT, "%s: scan %d: component %d is not in the frame", d->name, s->number, id);
        for (int j = 0; j < i; j++)
            if (s->index[j] == k)
                return dn_fail(DN_ERR_FORMAT, "%s: scan %d: component %d twice", d->name, s->number, id);
        if (td > 3 || ta > 3)
            return dn_fail(DN_ERR_FORMAT, "%s: scan %d: Huffman tables %d and %d (0..3)", d->name, s->number, td,
                           ta);
        s->index[i] = k;
        d->comp[k].dc_table = td;
        d->comp[k].ac_table = ta;
        blocks += d->comp[k].h * d->comp[k].v;
    }
    if (s->n > 1 && blocks > 10)
        return dn_fail(DN_ERR_FORMAT, "%s: scan %d: %d blocks per MCU (at most 10)", d->name, s->number, blocks);
    const uint8_t *t = p + 1 + 2 * s->n;
    s->ss = t[0];
    s->se = t[1];
    s->ah = t[2] >> 4;
    s->al = t[2] & 15;
    dn_status status = check_progression(d, s);
    if (status != DN_OK)
        return status;
    bool needs_dc = !d->progressive || (s->ss == 0 && s->ah == 0), needs_ac = !d->progressive || s->ss > 0;
    for (int i = 0; i < s->n; i++) {
        jpeg_component *c = &d->comp[s->index[i]];
        if (needs_dc && !d->dc[c->dc_table].defined)
            return dn_fail(DN_ERR_FORMAT, "%s: scan %d: component %d uses DC Huffman table %d, which no DHT "
                           "defined", d->name, s->number, c->id, c->dc_table);
        if (needs_ac && !d->ac[c->ac_table].defined)
            return dn_fail(DN_ERR_FORMAT, "%s: scan %d: component %d uses AC Huffman table %d, which no DHT "
                           "defined", d->name, s->number, c->id, c->ac_table);
        if (!c->quant_latched) {
            if (!d->quant_defined[c->tq])
                return dn_fail(DN_ERR_FORMAT, "%s: scan %d: component %d uses quantisation table %d, which no DQT "
                               "defined", d->name, s->number, c->id, c->tq);
            memcpy(c->quant, d->quant[c->tq], sizeof c->quant);
            c->quant_latched = true;
        }
    }
    return DN_OK;
}

static dn_status scan(jpeg_decoder *d, const uint8_t *p, size_t n)
{
    jpeg_scan s;
    dn_status status = parse_sos(d, p, n, &s);
    if (status == DN_OK && d->scans == 1)
        status = start_frame(d);
    if (status != DN_OK)
        return status;
    /* The AC scans of a component that does not make the gray image (chroma)
     * are skipped: their coefficients are never used. */
    if (d->progressive && s.ss > 0 && !d->comp[s.index[0]].needed)
        return dn_jpeg_skip_scan(d, &s);
    return dn_jpeg_decode_scan(d, &s);
}

/* ---- the file ---- */

static const char *unsupported_marker(uint8_t m)
{
    switch (m) {
    case 0xC3: return "lossless JPEG (SOF3)";
    case 0xC5: case 0xC6: case 0xC7: case 0xDE: case 0xDF: return "hierarchical JPEG";
    case 0xC9: case 0xCA: case 0xCB: case 0xCD: case 0xCE: case 0xCF: case 0xCC: return "arithmetic-coded JPEG";
    case 0xDC: return "a DNL marker (height defined after the first scan)";
    default: return NULL;
    }
}

/* After EOI: every component of the output decoded, then the gray image. */
static dn_status finish(jpeg_decoder *d, dn_image *img)
{
    if (!d->have_frame || d->scans == 0)
        return dn_fail(DN_ERR_FORMAT, "%s: EOI before %s", d->name, d->have_frame ? "any scan" : "a frame header");
    for (int i = 0; i < d->ncomp; i++) {
        jpeg_component *c = &d->comp[i];
        if (c->needed && (d->progressive ? c->coef_bits[0] < 0 : !c->scanned))
            return dn_fail(DN_ERR_FORMAT, "%s: truncated: component %d has no %sscan", d->name, c->id,
                           d->progressive ? "DC " : "");
        if (c->needed && d->progressive)
            dn_jpeg_idct_component(c);
    }
    dn_status status = dn_jpeg_to_gray(img, d);
    if (status == DN_OK && d->orientation > 1) {
        status = dn_jpeg_orient(img, d->orientation);
        if (status != DN_OK) {
            dn_image_free(img);
            status = dn_fail_context(status, "%s: EXIF orientation", d->name);
        }
    }
    return status;
}

static dn_status parse_markers(jpeg_decoder *d, dn_image *img)
{
    if (d->len < 2 || d->bytes[0] != 0xFF || d->bytes[1] != 0xD8)
        return dn_fail(DN_ERR_FORMAT, "%s: not a JPEG file (it does not start with FF D8)", d->name);
    d->pos = 2;
    for (;;) {
        if (d->pos >= d->len)
            return dn_fail(DN_ERR_FORMAT, "%s: truncated: the data ends before EOI (FF D9)", d->name);
        if (d->bytes[d->pos] != 0xFF)
            return dn_fail(DN_ERR_FORMAT, "%s: expected a marker at byte %zu, found byte 0x%02x", d->name, d->pos,
                           d->bytes[d->pos]);
        while (d->pos < d->len && d->bytes[d->pos] == 0xFF) /* fill bytes */
            d->pos++;
        if (d->pos >= d->len)
            return dn_fail(DN_ERR_FORMAT, "%s: truncated: the data ends before EOI (FF D9)", d->name);
        uint8_t m = d->bytes[d->pos++];
        const uint8_t *p = NULL;
        size_t n = 0;
        dn_status status;
        const char *refused = unsupported_marker(m);
        if (refused)
            return dn_fail(DN_ERR_UNSUPPORTED, "%s: %s is not supported (marker FF %02X at byte %zu)", d->name,
                           refused, m, d->pos - 2);
        if (m == 0xD9)
            return finish(d, img);
        if (m == 0x00 || m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m < 0xC0 || m == 0xC8 ||
            (m >= 0xF0 && m <= 0xFD))
            return dn_fail(DN_ERR_FORMAT, "%s: unexpected marker FF %02X at byte %zu", d->name, m, d->pos - 2);
        status = segment(d, m, &p, &n);
        if (status != DN_OK)
            return status;
        switch (m) {
        case 0xC0: case 0xC1: case 0xC2: status = parse_sof(d, m, p, n); break;
        case 0xC4: status = parse_dht(d, p, n); break;
        case 0xDB: status = parse_dqt(d, p, n); break;
        case 0xDD: status = parse_dri(d, p, n); break;
        case 0xDA: status = scan(d, p, n); break;
        default: /* APPn, COM */
            if (m >= 0xE0 && m <= 0xEF)
                parse_app(d, m, p, n);
            break;
        }
        if (status != DN_OK)
            return status;
    }
}

dn_status dn_jpeg_parse(dn_image *img, const uint8_t *bytes, size_t len, const char *name)
{
    if (!img || (!bytes && len)) {
        if (img)
            memset(img, 0, sizeof *img);
        return dn_fail(DN_ERR_ARG, "dn_jpeg_parse: %s is NULL", img ? "bytes" : "img");
    }
    memset(img, 0, sizeof *img);
    jpeg_decoder *d = dn_calloc(1, sizeof *d);
    if (!d)
        return dn_fail(DN_ERR_NOMEM, "dn_jpeg_parse: out of memory");
    d->bytes = bytes;
    d->len = len;
    d->name = name ? name : "(memory)";
    dn_status status = parse_markers(d, img);
    for (int i = 0; i < DN_JPEG_MAX_COMPONENTS; i++) {
        dn_free(d->comp[i].plane);
        dn_free(d->comp[i].coefs);
    }
    dn_free(d);
    if (status != DN_OK)
        dn_image_free(img);
    return status;
}

dn_status dn_jpeg_read(dn_image *img, const char *path)
{
    if (!img || !path) {
        if (img)
            memset(img, 0, sizeof *img);
        return dn_fail(DN_ERR_ARG, "dn_jpeg_read: %s is NULL", img ? "path" : "img");
    }
    memset(img, 0, sizeof *img);
    uint8_t *bytes;
    size_t len;
    dn_status status = dn_read_file(path, DN_JPEG_MAX_FILE_BYTES, "a JPEG file", &bytes, &len);
    if (status != DN_OK)
        return status;
    status = dn_jpeg_parse(img, bytes, len, path);
    dn_free(bytes);
    return status;
}
