/* test_gzip.c - CRC-32, DEFLATE and gzip against files made by the real gzip
 * (tests/fixtures/gzip), hand-built streams, truncations and bit flips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/gzip.h"
#include "digitnet/rng.h"
#include "digitnet/status.h"
#include "internal.h"
#include "test_util.h"

#define FIXTURE(name) DN_TEST_FIXTURES "/gzip/" name

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob;

static blob load(const char *path)
{
    blob b = {0};
    b.data = (uint8_t *)dn_test_read_file(path, &b.len);
    CHECK(b.data != NULL, "cannot read fixture %s", path);
    return b;
}

static bool error_says(const char *needle)
{
    bool found = strstr(dn_last_error(), needle) != NULL;
    CHECK(found, "message \"%s\" should mention \"%s\"", dn_last_error(), needle);
    return found;
}

/* Decompresses gz and compares with expected; returns true when equal. */
static bool gunzip_equals(const blob *gz, const uint8_t *expected, size_t expected_len, const char *what)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    dn_status status = dn_gunzip(&out, &out_len, gz->data, gz->len, SIZE_MAX);
    CHECK(status == DN_OK, "%s: %s", what, dn_last_error());
    bool same = status == DN_OK && out_len == expected_len && memcmp(out, expected, expected_len) == 0;
    CHECK(same, "%s: output of %zu bytes differs from the %zu expected", what, out_len, expected_len);
    dn_free(out);
    return same;
}

static uint32_t read_le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_crc32(const blob *mixed, const blob *mixed_gz)
{
    const uint8_t check[] = "123456789";
    CHECK(dn_crc32(0, check, 9) == 0xCBF43926u, "CRC-32 check value: %08x", dn_crc32(0, check, 9));
    CHECK(dn_crc32(0, check, 0) == 0, "CRC of nothing is 0");
    CHECK(dn_crc32(dn_crc32(0, check, 4), check + 4, 5) == 0xCBF43926u, "chained CRC");

    uint32_t whole = dn_crc32(0, mixed->data, mixed->len);
    uint32_t chunked = 0;
    for (size_t i = 0; i < mixed->len; i += 100)
        chunked = dn_crc32(chunked, mixed->data + i, mixed->len - i < 100 ? mixed->len - i : 100);
    CHECK(whole == chunked, "table path %08x equals bitwise path %08x", whole, chunked);
    uint32_t from_gzip = read_le32(mixed_gz->data + mixed_gz->len - 8);
    CHECK(whole == from_gzip, "CRC %08x equals the one gzip stored, %08x", whole, from_gzip);
}

static void test_fixtures(const blob *mixed, const blob *random)
{
    blob gz1 = load(FIXTURE("mixed-1.gz"));
    blob gz9 = load(FIXTURE("mixed-9n.gz"));
    blob rgz = load(FIXTURE("random-9n.gz"));
    blob empty = load(FIXTURE("empty-n.gz"));
    blob shortgz = load(FIXTURE("short-9n.gz"));
    if (!gz1.data || !gz9.data || !rgz.data || !empty.data || !shortgz.data)
        goto done;

    CHECK(gz1.data[3] & 0x08, "gzip -1 fixture stores a file name (FNAME)");
    gunzip_equals(&gz1, mixed->data, mixed->len, "gzip -1 (with FNAME)");
    gunzip_equals(&gz9, mixed->data, mixed->len, "gzip -9 -n");
    CHECK((rgz.data[10] & 7) == 1, "random data was stored: first block header %x", rgz.data[10] & 7);
    gunzip_equals(&rgz, random->data, random->len, "stored blocks");
    const char *text = "Hello, hello, hello! Fixed Huffman codes for short inputs.\n";
    CHECK(((shortgz.data[10] >> 1) & 3) == 1, "short input used the fixed code");
    gunzip_equals(&shortgz, (const uint8_t *)text, strlen(text), "fixed Huffman block");

    uint8_t *out = NULL;
    size_t out_len = 99;
    CHECK_OK(dn_gunzip(&out, &out_len, empty.data, empty.len, SIZE_MAX));
    CHECK(out != NULL && out_len == 0, "gzip of an empty file gives 0 bytes (%zu)", out_len);
    dn_free(out);

    /* The raw DEFLATE stream inside, with bytes after it left alone. */
    size_t deflate_len = gz9.len - 18, used = 0;
    CHECK_OK(dn_inflate(&out, &out_len, &used, gz9.data + 10, gz9.len - 10, SIZE_MAX));
    CHECK(used == deflate_len, "inflate used %zu bytes, the stream has %zu", used, deflate_len);
    CHECK(out_len == mixed->len && memcmp(out, mixed->data, out_len) == 0, "raw inflate output");
    dn_free(out);

    /* Concatenated members decompress to the concatenated data. */
    size_t cat_len = gz9.len + shortgz.len + empty.len + rgz.len;
    blob cat = {malloc(cat_len), cat_len};
    memcpy(cat.data, gz9.data, gz9.len);
    memcpy(cat.data + gz9.len, shortgz.data, shortgz.len);
    memcpy(cat.data + gz9.len + shortgz.len, empty.data, empty.len);
    memcpy(cat.data + gz9.len + shortgz.len + empty.len, rgz.data, rgz.len);
    size_t expect_len = mixed->len + strlen(text) + random->len;
    uint8_t *expect = malloc(expect_len);
    memcpy(expect, mixed->data, mixed->len);
    memcpy(expect + mixed->len, text, strlen(text));
    memcpy(expect + mixed->len + strlen(text), random->data, random->len);
    gunzip_equals(&cat, expect, expect_len, "four concatenated members");

    free(expect);
    free(cat.data);

    /* The output limit. */
    CHECK(dn_gunzip(&out, &out_len, gz9.data, gz9.len, mixed->len - 1) == DN_ERR_UNSUPPORTED,
          "output one byte over max_out is refused");
    error_says("limit");
    CHECK(out == NULL && out_len == 0, "failure leaves no output");
    CHECK_OK(dn_gunzip(&out, &out_len, gz9.data, gz9.len, mixed->len));
    dn_free(out);
done:
    free(gz1.data);
    free(gz9.data);
    free(rgz.data);
    free(empty.data);
    free(shortgz.data);
}

/* Appends a gzip member built by hand around deflate data: every optional
 * header field, the header CRC, then the trailer for original. */
static size_t build_member(uint8_t *dst, const uint8_t *deflate, size_t deflate_len, const uint8_t *original,
                           size_t original_len, uint8_t flags)
{
    size_t p = 0;
    const uint8_t fixed[10] = {0x1f, 0x8b, 8, flags, 1, 2, 3, 4, 0, 3};
    memcpy(dst, fixed, 10);
    p = 10;
    if (flags & 0x04) {
        const uint8_t extra[] = {5, 0, 'A', 'p', 2, 0, 'x'};
        memcpy(dst + p, extra, sizeof extra);
        p += sizeof extra;
    }
    if (flags & 0x08) {
        memcpy(dst + p, "name.txt", 9);
        p += 9;
    }
    if (flags & 0x10) {
        memcpy(dst + p, "a comment", 10);
        p += 10;
    }
    if (flags & 0x02) {
        uint32_t crc = dn_crc32(0, dst, p);
        dst[p++] = (uint8_t)crc;
        dst[p++] = (uint8_t)(crc >> 8);
    }
    memcpy(dst + p, deflate, deflate_len);
    p += deflate_len;
    uint32_t crc = dn_crc32(0, original, original_len);
    for (int i = 0; i < 4; i++)
        dst[p++] = (uint8_t)(crc >> (8 * i));
    for (int i = 0; i < 4; i++)
        dst[p++] = (uint8_t)(original_len >> (8 * i));
    return p;
}

static void test_header_fields(void)
{
    blob shortgz = load(FIXTURE("short-9n.gz"));
    if (!shortgz.data)
        return;
    const char *text = "Hello, hello, hello! Fixed Huffman codes for short inputs.\n";
    const uint8_t *deflate = shortgz.data + 10;
    size_t deflate_len = shortgz.len - 18;
    uint8_t member[256];
    uint8_t *out;
    size_t out_len;

    size_t len = build_member(member, deflate, deflate_len, (const uint8_t *)text, strlen(text), 0x1f);
    blob b = {member, len};
    gunzip_equals(&b, (const uint8_t *)text, strlen(text), "FTEXT|FHCRC|FEXTRA|FNAME|FCOMMENT");

    size_t hcrc_at = 10 + 7 + 9 + 10;
    member[hcrc_at] ^= 1;
    CHECK(dn_gunzip(&out, &out_len, member, len, SIZE_MAX) == DN_ERR_FORMAT, "bad header CRC refused");
    error_says("header CRC");
    member[hcrc_at] ^= 1;
    member[12] ^= 0x10; /* inside the extra field: covered by the header CRC */
    CHECK(dn_gunzip(&out, &out_len, member, len, SIZE_MAX) == DN_ERR_FORMAT, "changed extra field caught");
    error_says("header CRC");
    member[12] ^= 0x10;

    for (size_t cut = 10; cut < hcrc_at + 2; cut++) {
        dn_status status = dn_gunzip(&out, &out_len, member, cut, SIZE_MAX);
        CHECK(status == DN_ERR_FORMAT && strstr(dn_last_error(), "truncated header"),
              "header cut at %zu: %s", cut, dn_last_error());
    }

    len = build_member(member, deflate, deflate_len, (const uint8_t *)text, strlen(text), 0x20);
    CHECK(dn_gunzip(&out, &out_len, member, len, SIZE_MAX) == DN_ERR_FORMAT, "reserved flag refused");
    error_says("reserved");
    len = build_member(member, deflate, deflate_len, (const uint8_t *)text, strlen(text), 0);
    member[2] = 7;
    CHECK(dn_gunzip(&out, &out_len, member, len, SIZE_MAX) == DN_ERR_UNSUPPORTED, "method 7 refused");
    error_says("method");
    free(shortgz.data);
}

static void test_container_errors(const blob *mixed)
{
    blob gz = load(FIXTURE("mixed-9n.gz"));
    if (!gz.data)
        return;
    uint8_t *out = NULL;
    size_t out_len = 0;
    uint8_t *copy = malloc(gz.len + 4);

    CHECK(dn_gunzip(&out, &out_len, gz.data, 0, SIZE_MAX) == DN_ERR_FORMAT, "empty input refused");
    error_says("empty");
    CHECK(dn_gunzip(&out, &out_len, mixed->data, mixed->len, SIZE_MAX) == DN_ERR_FORMAT, "non-gzip refused");
    error_says("not gzip");

    memcpy(copy, gz.data, gz.len);
    copy[gz.len - 8] ^= 0x40;
    CHECK(dn_gunzip(&out, &out_len, copy, gz.len, SIZE_MAX) == DN_ERR_FORMAT, "corrupt CRC refused");
    error_says("CRC-32 mismatch");
    CHECK(out == NULL && out_len == 0, "no output after a failure");

    memcpy(copy, gz.data, gz.len);
    copy[gz.len - 4] ^= 1;
    CHECK(dn_gunzip(&out, &out_len, copy, gz.len, SIZE_MAX) == DN_ERR_FORMAT, "wrong ISIZE refused");
    error_says("length mismatch");
    copy[gz.len - 1] = 0xff; /* an absurd size must not be trusted for the allocation */
    CHECK(dn_gunzip(&out, &out_len, copy, gz.len, SIZE_MAX) == DN_ERR_FORMAT, "huge ISIZE refused");
    error_says("length mismatch");

    memcpy(copy, gz.data, gz.len);
    memcpy(copy + gz.len, "junk", 4);
    CHECK(dn_gunzip(&out, &out_len, copy, gz.len + 4, SIZE_MAX) == DN_ERR_FORMAT, "trailing garbage refused");
    error_says("trailing garbage");
    copy[gz.len] = 0x1f;
    copy[gz.len + 1] = 0x8b;
    CHECK(dn_gunzip(&out, &out_len, copy, gz.len + 4, SIZE_MAX) == DN_ERR_FORMAT, "truncated second member");
    error_says("truncated header");

    CHECK(dn_gunzip(&out, &out_len, NULL, 5, SIZE_MAX) == DN_ERR_ARG, "NULL input refused");
    free(copy);
    free(gz.data);
}

/* Every prefix must fail cleanly: near both ends exhaustively, in between
 * at a stride. */
static void test_truncations(const char *path, size_t stride)
{
    blob gz = load(path);
    if (!gz.data)
        return;
    int accepted = 0, truncated_messages = 0, tried = 0;
    for (size_t cut = 0; cut < gz.len; cut += (cut < 600 || gz.len - cut <= 600) ? 1 : stride) {
        uint8_t *prefix = malloc(cut ? cut : 1);
        memcpy(prefix, gz.data, cut);
        uint8_t *out = NULL;
        size_t out_len = 0;
        dn_status status = dn_gunzip(&out, &out_len, prefix, cut, SIZE_MAX);
        if (status == DN_OK) {
            accepted++;
            dn_free(out);
        } else if (strstr(dn_last_error(), "truncated")) {
            truncated_messages++;
        }
        tried++;
        free(prefix);
    }
    CHECK(accepted == 0, "%s: %d of %d truncations were accepted", path, accepted, tried);
    /* 0 and 1 bytes are reported as empty and as not gzip */
    CHECK(truncated_messages >= tried - 2, "%s: only %d of %d truncations say \"truncated\" (last: %s)", path,
          truncated_messages, tried, dn_last_error());
    free(gz.data);
}

/* A flipped bit must give an error (usually a CRC mismatch) or, when it hit
 * a field nobody checks, the original data; never a crash or wrong data. */
static void test_bit_flips(const char *path, const blob *original, size_t samples)
{
    blob gz = load(path);
    if (!gz.data)
        return;
    dn_rng rng;
    dn_rng_seed(&rng, 1952);
    int wrong = 0, errors = 0;
    size_t total = samples ? samples : gz.len * 8;
    for (size_t k = 0; k < total; k++) {
        size_t bit = samples ? (size_t)dn_rng_below(&rng, gz.len * 8) : k;
        gz.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        uint8_t *out = NULL;
        size_t out_len = 0;
        dn_status status = dn_gunzip(&out, &out_len, gz.data, gz.len, 1 << 20);
        if (status != DN_OK)
            errors++;
        else if (out_len != original->len || memcmp(out, original->data, out_len) != 0)
            wrong++;
        dn_free(out);
        gz.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK(wrong == 0, "%s: %d bit flips gave wrong data without an error", path, wrong);
    CHECK(errors > (int)total * 8 / 10, "%s: only %d of %zu bit flips were errors", path, errors, total);
    free(gz.data);
}

/* A little LSB-first bit writer for hand-made DEFLATE streams. */
typedef struct bit_writer {
    uint8_t bytes[64];
    size_t bits;
} bit_writer;

static void put_bits(bit_writer *w, uint32_t value, unsigned n)
{
    for (unsigned i = 0; i < n; i++, w->bits++) {
        if (value >> i & 1)
            w->bytes[w->bits / 8] |= (uint8_t)(1u << (w->bits % 8));
    }
}

/* Huffman codes go most significant bit first. */
static void put_code(bit_writer *w, uint32_t code, unsigned len)
{
    for (unsigned i = len; i-- > 0;)
        put_bits(w, code >> i & 1, 1);
}

static size_t writer_len(const bit_writer *w) { return (w->bits + 7) / 8; }

static dn_status inflate_writer(const bit_writer *w, uint8_t **out, size_t *out_len)
{
    return dn_inflate(out, out_len, NULL, w->bytes, writer_len(w), SIZE_MAX);
}

/* Starts a final fixed-Huffman block holding the literal 'a'. */
static void fixed_start(bit_writer *w)
{
    memset(w, 0, sizeof *w);
    put_bits(w, 1, 1);
    put_bits(w, 1, 2);
    put_code(w, 0x30 + 'a', 8);
}

static void test_handmade_streams(void)
{
    bit_writer w;
    uint8_t *out = NULL;
    size_t out_len = 0;

    fixed_start(&w);
    put_code(&w, 1, 7); /* length symbol 257: 3 */
    put_code(&w, 0, 5); /* distance symbol 0: 1 */
    put_code(&w, 0, 7); /* end of block */
    CHECK_OK(inflate_writer(&w, &out, &out_len));
    CHECK(out_len == 4 && memcmp(out, "aaaa", 4) == 0, "overlapping match gives aaaa");
    dn_free(out);

    fixed_start(&w);
    put_code(&w, 1, 7);
    put_code(&w, 1, 5); /* distance 2, with 1 byte of output */
    put_code(&w, 0, 7);
    CHECK(inflate_writer(&w, &out, &out_len) == DN_ERR_FORMAT, "distance too far back refused");
    error_says("too far back");

    fixed_start(&w);
    put_code(&w, 0xc0 + 6, 8); /* literal/length symbol 286 */
    CHECK(inflate_writer(&w, &out, &out_len) == DN_ERR_FORMAT, "symbol 286 refused");
    error_says("invalid literal/length symbol 286");

    fixed_start(&w);
    put_code(&w, 1, 7);
    put_code(&w, 30, 5);
    CHECK(inflate_writer(&w, &out, &out_len) == DN_ERR_FORMAT, "distance symbol 30 refused");
    error_says("invalid distance symbol 30");

    fixed_start(&w);
    put_code(&w, 0, 7);
    size_t valid = writer_len(&w);
    CHECK_OK(inflate_writer(&w, &out, &out_len));
    dn_free(out);
    CHECK(dn_inflate(&out, &out_len, NULL, w.bytes, valid - 1, SIZE_MAX) == DN_ERR_FORMAT, "cut block refused");
    error_says("truncated");

    memset(&w, 0, sizeof w);
    put_bits(&w, 1, 1);
    put_bits(&w, 3, 2);
    CHECK(inflate_writer(&w, &out, &out_len) == DN_ERR_FORMAT, "block type 3 refused");
    error_says("invalid block type");

    memset(&w, 0, sizeof w);
    put_bits(&w, 1, 1);
    put_bits(&w, 0, 2);
    put_bits(&w, 0, 5);          /* pad to the byte */
    put_bits(&w, 5, 16);         /* LEN */
    put_bits(&w, 0xfffa, 16);    /* NLEN = ~5 */
    put_bits(&w, 0x6c6c6568, 32); /* "hell": only 4 of the 5 bytes */
    CHECK(inflate_writer(&w, &out, &out_len) == DN_ERR_FORMAT, "short stored block refused");
    error_says("truncated");
    put_bits(&w, 'o', 8);
    CHECK_OK(inflate_writer(&w, &out, &out_len));
    CHECK(out_len == 5 && memcmp(out, "hello", 5) == 0, "stored block gives hello");
    dn_free(out);
    w.bytes[3] ^= 1;
    CHECK(inflate_writer(&w, &out, &out_len) == DN_ERR_FORMAT, "bad NLEN refused");
    error_says("complement");

    /* Dynamic block headers. Code-length lengths come in the order
     * 16, 17, 18, 0, 8, ...; HCLEN = 0 sends the first four. */
    memset(&w, 0, sizeof w);
    put_bits(&w, 1, 1);
    put_bits(&w, 2, 2);
    put_bits(&w, 0, 5);
    put_bits(&w, 0, 5);
    put_bits(&w, 15, 4);
    for (int i = 0; i < 19; i++)
        put_bits(&w, 1, 3);
    CHECK(inflate_writer(&w, &out, &out_len) == DN_ERR_FORMAT, "over-subscribed code-length code refused");
    error_says("over-subscribed code-length");

    memset(&w, 0, sizeof w);
    put_bits(&w, 1, 1);
    put_bits(&w, 2, 2);
    put_bits(&w, 0, 5);
    put_bits(&w, 0, 5);
    put_bits(&w, 0, 4);
    put_bits(&w, 1, 3); /* 16: 1 bit, code 0 */
    put_bits(&w, 1, 3); /* 17: 1 bit, code 1 */
    put_bits(&w, 0, 3);
    put_bits(&w, 0, 3);
    put_code(&w, 0, 1); /* repeat previous, with nothing before */
    put_bits(&w, 0, 2);
    CHECK(inflate_writer(&w, &out, &out_len) == DN_ERR_FORMAT, "repeat with no previous length refused");
    error_says("no previous length");

    memset(&w, 0, sizeof w);
    put_bits(&w, 1, 1);
    put_bits(&w, 2, 2);
    put_bits(&w, 0, 5); /* 257 literal/length codes */
    put_bits(&w, 0, 5); /* 1 distance code: 258 lengths in all */
    put_bits(&w, 0, 4);
    put_bits(&w, 0, 3); /* 16 unused */
    put_bits(&w, 1, 3); /* 17: code 0 */
    put_bits(&w, 1, 3); /* 18: code 1 */
    put_bits(&w, 0, 3);
    bit_writer runs_past = w;
    put_code(&w, 1, 1);
    put_bits(&w, 127, 7); /* 138 zeros */
    put_code(&w, 1, 1);
    put_bits(&w, 109, 7); /* 120 zeros: all 258 lengths are 0 */
    CHECK(inflate_writer(&w, &out, &out_len) == DN_ERR_FORMAT, "no end-of-block code refused");
    error_says("end-of-block");
    put_code(&runs_past, 1, 1);
    put_bits(&runs_past, 127, 7);
    put_code(&runs_past, 1, 1);
    put_bits(&runs_past, 127, 7); /* 276 > 258 */
    CHECK(inflate_writer(&runs_past, &out, &out_len) == DN_ERR_FORMAT, "repeat past the end refused");
    error_says("runs past");

    memset(&w, 0, sizeof w);
    put_bits(&w, 1, 1);
    put_bits(&w, 2, 2);
    put_bits(&w, 30, 5); /* 287 literal/length codes */
    put_bits(&w, 0, 5);
    put_bits(&w, 0, 4);
    CHECK(inflate_writer(&w, &out, &out_len) == DN_ERR_FORMAT, "HLIT 287 refused");
    error_says("at most 286");

    CHECK(dn_inflate(&out, &out_len, NULL, NULL, 0, SIZE_MAX) == DN_ERR_FORMAT, "empty deflate refused");
    error_says("truncated");
}

/* A match in the second gzip member may not reach into the first member's
 * output, even though it sits in the same buffer. */
static void test_member_isolation(void)
{
    bit_writer w;
    fixed_start(&w);
    put_code(&w, 0, 7);
    uint8_t first[64];
    size_t first_len = build_member(first, w.bytes, writer_len(&w), (const uint8_t *)"a", 1, 0);

    memset(&w, 0, sizeof w);
    put_bits(&w, 1, 1);
    put_bits(&w, 1, 2);
    put_code(&w, 1, 7); /* a match of 3 with distance 1 before any literal */
    put_code(&w, 0, 5);
    put_code(&w, 0, 7);
    uint8_t both[128];
    memcpy(both, first, first_len);
    size_t len = first_len + build_member(both + first_len, w.bytes, writer_len(&w), (const uint8_t *)"aaa", 3, 0);
    uint8_t *out = NULL;
    size_t out_len = 0;
    CHECK(dn_gunzip(&out, &out_len, both, first_len, SIZE_MAX) == DN_OK && out_len == 1, "first member alone");
    dn_free(out);
    CHECK(dn_gunzip(&out, &out_len, both, len, SIZE_MAX) == DN_ERR_FORMAT, "match into the previous member refused");
    error_says("too far back");
}

int main(void)
{
    blob mixed = load(FIXTURE("mixed.bin"));
    blob random = load(FIXTURE("random.bin"));
    blob mixed_gz = load(FIXTURE("mixed-9n.gz"));
    if (!mixed.data || !random.data || !mixed_gz.data)
        return dn_test_finish();
    blob text = {(uint8_t *)"Hello, hello, hello! Fixed Huffman codes for short inputs.\n", 59};

    test_crc32(&mixed, &mixed_gz);
    test_fixtures(&mixed, &random);
    test_header_fields();
    test_container_errors(&mixed);
    test_handmade_streams();
    test_member_isolation();
    test_truncations(FIXTURE("mixed-9n.gz"), 13);
    test_truncations(FIXTURE("mixed-1.gz"), 29);
    test_truncations(FIXTURE("random-9n.gz"), 7);
    test_truncations(FIXTURE("short-9n.gz"), 1);
    test_bit_flips(FIXTURE("short-9n.gz"), &text, 0);
    test_bit_flips(FIXTURE("mixed-9n.gz"), &mixed, 3000);
    test_bit_flips(FIXTURE("random-9n.gz"), &random, 1000);

    free(mixed.data);
    free(random.data);
    free(mixed_gz.data);
    return dn_test_finish();
}
