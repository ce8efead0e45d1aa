/* test_safetensors.c - the strict JSON parser and escaper, safetensors round
 * trips and atomic writes, a PyTorch-made file, and malformed/fuzzed input. */
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digitnet/json.h"
#include "digitnet/rng.h"
#include "digitnet/safetensors.h"
#include "digitnet/status.h"
#include "json_parse.h"
#include "test_util.h"

/* ---- helpers ---- */

static bool same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* 8-byte little-endian length, then header, then data. */
static uint8_t *make_raw(uint64_t declared, const char *header, size_t header_length, const uint8_t *data,
                         size_t data_length, size_t *length)
{
    *length = 8 + header_length + data_length;
    uint8_t *bytes = malloc(*length);
    for (int i = 0; i < 8; i++)
        bytes[i] = (uint8_t)(declared >> (8 * i));
    memcpy(bytes + 8, header, header_length);
    if (data_length)
        memcpy(bytes + 8 + header_length, data, data_length);
    return bytes;
}

static uint8_t *make_file(const char *header, const uint8_t *data, size_t data_length, size_t *length)
{
    return make_raw(strlen(header), header, strlen(header), data, data_length, length);
}

static dn_status parse_text(dn_safetensors *st, const char *header, size_t data_length)
{
    uint8_t *zeros = calloc(data_length ? data_length : 1, 1);
    size_t length;
    uint8_t *bytes = make_file(header, zeros, data_length, &length);
    dn_status status = dn_safetensors_parse(st, bytes, length, "bad.safetensors");
    free(bytes);
    free(zeros);
    return status;
}

static int compare_names(const void *a, const void *b) { return strcmp(a, b); }

/* Names in dir other than "." and "..", joined by spaces, sorted. */
static void list_dir(const char *dir, char *out, size_t capacity)
{
    char names[16][256];
    int count = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && count < 16)
            snprintf(names[count++], sizeof names[0], "%s", e->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)count, sizeof names[0], compare_names);
    out[0] = '\0';
    for (int i = 0; i < count; i++)
        snprintf(out + strlen(out), capacity - strlen(out), "%s%s", i ? " " : "", names[i]);
}

static bool tensors_equal(const dn_st_tensor *a, const dn_st_tensor *b)
{
    if (strcmp(a->name, b->name) != 0 || a->ndim != b->ndim || a->size != b->size)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return false;
    return a->size == 0 || memcmp(a->data, b->data, a->size * sizeof(float)) == 0;
}

/* ---- the JSON parser ---- */

static void test_json_values(void)
{
    const char *text = " {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\"], \"b\" : {},\n"
                       "  \"big\": [18446744073709551615, 18446744073709551616, -0, 3.0, 3e0, -7],"
                       "  \"esc\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\ud83d\\ude00\", \"nul\": \"a\\u0000b\"}  ";
    dn_json_doc doc;
    CHECK_OK(dn_json_parse(&doc, text, strlen(text)));
    const dn_json *a = dn_json_get(&doc.root, "a");
    CHECK(doc.root.type == DN_JSON_OBJECT && doc.root.length == 5, "root object of 5 members");
    CHECK(a && a->type == DN_JSON_ARRAY && a->length == 6, "array of 6");
    if (a && a->length == 6) {
        CHECK(a->items[0].type == DN_JSON_NUMBER && a->items[0].number == 1 && a->items[0].integer, "1");
        CHECK(a->items[1].number == -2500 && !a->items[1].integer, "-2.5e3 = %g", a->items[1].number);
        CHECK(a->items[2].type == DN_JSON_TRUE && a->items[3].type == DN_JSON_FALSE &&
              a->items[4].type == DN_JSON_NULL, "literals");
        CHECK(a->items[5].type == DN_JSON_STRING && strcmp(a->items[5].string, "x\xc3\xa9") == 0 &&
              a->items[5].length == 3, "\\u00e9 decodes to UTF-8");
    }
    const dn_json *b = dn_json_get(&doc.root, "b");
    CHECK(b && b->type == DN_JSON_OBJECT && b->length == 0, "empty object");
    CHECK(dn_json_get(&doc.root, "missing") == NULL && dn_json_get(a, "a") == NULL, "absent keys");
    const dn_json *big = dn_json_get(&doc.root, "big");
    uint64_t u = 0;
    if (big && big->length == 6) {
        CHECK(dn_json_get_u64(&big->items[0], &u) && u == UINT64_MAX, "2^64-1 exact");
        CHECK(!dn_json_get_u64(&big->items[1], &u) && big->items[1].number == 18446744073709551616.0,
              "2^64 is not an integer but still a number");
        CHECK(dn_json_get_u64(&big->items[2], &u) && u == 0, "-0 is 0");
        CHECK(!dn_json_get_u64(&big->items[3], &u) && !dn_json_get_u64(&big->items[4], &u), "3.0, 3e0 not integers");
        CHECK(!dn_json_get_u64(&big->items[5], &u) && big->items[5].number == -7, "-7 not unsigned");
    } else
        CHECK(false, "big array");
    const dn_json *esc = dn_json_get(&doc.root, "esc");
    const char want[] = "\"\\/\b\f\n\r\tA\xf0\x9f\x98\x80";
    CHECK(esc && esc->length == strlen(want) && strcmp(esc->string, want) == 0, "every escape decodes");
    const dn_json *nul = dn_json_get(&doc.root, "nul");
    CHECK(nul && nul->length == 3 && memcmp(nul->string, "a\0b", 4) == 0, "\\u0000 kept, length 3");
    dn_json_free(&doc);
    dn_json_free(&doc);

    char deep[200];
    for (int depth = 63; depth <= 65; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        dn_status status = dn_json_parse(&doc, deep, 2 * (size_t)depth);
        CHECK((status == DN_OK) == (depth <= DN_JSON_MAX_DEPTH), "depth %d -> %s", depth, dn_status_name(status));
        dn_json_free(&doc);
    }
}

static void test_json_rejects(void)
{
    static const char *const bad[] = {
        "", "  ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "\"abc",
        "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\x01\"", "\"a\tb\"",
        "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\x80\"", "\"\xe2\x82\"",
        "{\"a\":1,\"a\":2}", "{\"k\":{\"x\":1,\"y\":2,\"x\":3}}", "[1] x", "1e400", "\xef\xbb\xbf{}",
        "{\"a\" 1}", "[1 2]", "\"a\"\"b\"", "{1:2}", "[01]", "[-]", "[1.e5]", "NaN", "[Infinity]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t length = strlen(bad[i]);
        dn_json_doc doc;
        dn_clear_error();
        dn_status status = dn_json_parse(&doc, bad[i], length);
        CHECK(status == DN_ERR_FORMAT, "bad JSON #%zu refused (%s)", i, dn_status_name(status));
        CHECK(strstr(dn_last_error(), "byte ") != NULL, "#%zu message gives a position: %s", i, dn_last_error());
        CHECK(doc.blocks == NULL, "#%zu nothing left allocated", i);
        dn_json_free(&doc);
    }
    dn_json_doc doc;
    CHECK(dn_json_parse(&doc, "{}\0", 3) == DN_ERR_FORMAT, "a NUL after the value is not whitespace");
    CHECK(dn_json_parse(&doc, "{\"a\":1,\n\"a\":2}", 14) == DN_ERR_FORMAT &&
              strstr(dn_last_error(), "duplicate key \"a\"") && strstr(dn_last_error(), "line 1"),
          "duplicate key message: %s", dn_last_error());
    CHECK(dn_json_parse(&doc, "[1,\n  x]", 8) == DN_ERR_FORMAT && strstr(dn_last_error(), "line 2, column 3"),
          "line and column: %s", dn_last_error());
}

static void test_json_escape(void)
{
    char buf[128];
    const char *in = "a\"b\\c\n\x01\x7f \xc3\xa9 \xff/";
    const char *want = "\"a\\\"b\\\\c\\n\\u0001\\u007f \xc3\xa9 \\ufffd/\"";
    size_t need = dn_json_escape(buf, sizeof buf, in);
    CHECK(strcmp(buf, want) == 0 && need == strlen(want), "escape: %s", buf);
    CHECK(dn_json_escape(NULL, 0, in) == need, "capacity 0 sizes the output");
    char small[6];
    CHECK(dn_json_escape(small, sizeof small, in) == need && strcmp(small, "\"a\\\"b") == 0,
          "cut output is NUL-terminated: %s", small);
    CHECK(dn_json_escape(buf, sizeof buf, "") == 2 && strcmp(buf, "\"\"") == 0, "empty string");

    FILE *f = tmpfile();
    CHECK(f != NULL, "tmpfile");
    if (f) {
        CHECK_OK(dn_json_write_string(f, in));
        rewind(f);
        size_t got = fread(buf, 1, sizeof buf - 1, f);
        buf[got] = '\0';
        CHECK(strcmp(buf, want) == 0, "write_string matches escape: %s", buf);
        fclose(f);
    }
    CHECK(dn_json_write_string(NULL, "x") == DN_ERR_ARG, "NULL stream refused");

    /* escaping then parsing gives the string back (or U+FFFD for bad bytes) */
    dn_rng rng;
    dn_rng_seed(&rng, 7);
    for (int trial = 0; trial < 500; trial++) {
        char s[33];
        size_t n = (size_t)dn_rng_below(&rng, 32);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(1 + dn_rng_below(&rng, 255));
        s[n] = '\0';
        need = dn_json_escape(NULL, 0, s);
        char *quoted = malloc(need + 1);
        dn_json_escape(quoted, need + 1, s);
        dn_json_doc doc;
        dn_status status = dn_json_parse(&doc, quoted, need);
        CHECK(status == DN_OK && doc.root.type == DN_JSON_STRING, "escaped output parses: %s", dn_last_error());
        if (status == DN_OK && dn_utf8_valid(s, n))
            CHECK(doc.root.length == n && memcmp(doc.root.string, s, n) == 0, "round trip of valid UTF-8");
        dn_json_free(&doc);
        free(quoted);
    }
}

/* ---- building and writing ---- */

static void build_sample(dn_safetensors *st, float offset)
{
    float w[8 * 3 * 3], bias[8];
    for (int i = 0; i < 72; i++)
        w[i] = offset + 0.01f * (float)i - 0.3f;
    for (int i = 0; i < 8; i++)
        bias[i] = offset - (float)i;
    float special[6] = {INFINITY, -INFINITY, NAN, -0.0f, 1e-45f, 3.4028235e38f};
    float temperature = 0.75f;
    CHECK_OK(dn_safetensors_add(st, "layer1.weight", 4, (int[]){8, 1, 3, 3}, w));
    CHECK_OK(dn_safetensors_add(st, "layer1.bias", 1, (int[]){8}, bias));
    CHECK_OK(dn_safetensors_add(st, "temperature", 0, NULL, &temperature));
    CHECK_OK(dn_safetensors_add(st, "empty", 2, (int[]){0, 4}, NULL));
    CHECK_OK(dn_safetensors_add(st, "w\"\xc3\xa9\n", 2, (int[]){2, 3}, special));
    CHECK_OK(dn_safetensors_set_meta(st, "arch", "conv"));
    CHECK_OK(dn_safetensors_set_meta(st, "quote\"key", "line\nbreak \xe2\x9c\x93"));
}

static void test_builder(void)
{
    dn_safetensors st = {0};
    float x[4] = {1, 2, 3, 4};
    CHECK(dn_safetensors_add(&st, "a", 5, (int[]){1, 1, 1, 1, 1}, x) == DN_ERR_ARG, "5 dims refused");
    CHECK(dn_safetensors_add(&st, "a", 1, (int[]){-1}, x) == DN_ERR_ARG, "negative dim refused");
    CHECK(dn_safetensors_add(&st, "a", 1, (int[]){4}, NULL) == DN_ERR_ARG, "NULL data refused");
    CHECK(dn_safetensors_add(&st, "__metadata__", 1, (int[]){4}, x) == DN_ERR_ARG, "reserved name refused");
    CHECK(dn_safetensors_add(&st, "bad\xff", 1, (int[]){4}, x) == DN_ERR_ARG, "non-UTF-8 name refused");
    CHECK_OK(dn_safetensors_add(&st, "a", 2, (int[]){2, 2}, x));
    x[0] = 99;
    CHECK(st.tensors[0].data[0] == 1 && st.tensors[0].size == 4, "add copies the data");
    CHECK(dn_safetensors_add(&st, "a", 1, (int[]){4}, x) == DN_ERR_ARG && strstr(dn_last_error(), "\"a\""),
          "duplicate refused: %s", dn_last_error());
    CHECK_OK(dn_safetensors_set_meta(&st, "k", "v1"));
    CHECK_OK(dn_safetensors_set_meta(&st, "k", "v2"));
    CHECK(st.meta_count == 1 && strcmp(dn_safetensors_meta(&st, "k"), "v2") == 0, "set_meta replaces");
    CHECK(dn_safetensors_set_meta(&st, "k", "\xc3") == DN_ERR_ARG, "non-UTF-8 value refused");
    CHECK(dn_safetensors_meta(&st, "nope") == NULL && dn_safetensors_find(&st, "nope") == NULL, "absent lookups");
    CHECK(dn_safetensors_find(NULL, "a") == NULL && dn_safetensors_meta(NULL, "k") == NULL, "NULL st lookups");
    dn_safetensors_free(&st);
    CHECK(st.count == 0 && st.tensors == NULL && st.meta == NULL, "free empties");
    dn_safetensors_free(&st);
}

static void test_exact_bytes(const char *dir)
{
    dn_safetensors st = {0};
    CHECK_OK(dn_safetensors_add(&st, "a", 1, (int[]){2}, (float[]){1.0f, -2.0f}));
    char path[512];
    snprintf(path, sizeof path, "%s/exact.safetensors", dir);
    CHECK_OK(dn_safetensors_write(&st, path));
    const char header[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ";
    static const uint8_t data[] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0};
    size_t want_length;
    uint8_t *want = make_file(header, data, sizeof data, &want_length);
    size_t got_length = 0;
    char *got = dn_test_read_file(path, &got_length);
    CHECK(got && got_length == want_length && memcmp(got, want, want_length) == 0,
          "byte-exact F32 little-endian file, header padded to 8 (%zu vs %zu bytes)", got_length, want_length);
    free(got);
    free(want);
    unlink(path);
    dn_safetensors_free(&st);
}

static void test_round_trip(const char *dir)
{
    char path[512], names[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    dn_safetensors st = {0}, back;
    build_sample(&st, 0.0f);
    CHECK_OK(dn_safetensors_write(&st, path));
    list_dir(dir, names, sizeof names);
    CHECK(strcmp(names, "model.safetensors") == 0, "only the destination is left: %s", names);

    size_t length = 0;
    uint8_t *bytes = (uint8_t *)dn_test_read_file(path, &length);
    uint64_t header_length = 0;
    for (int i = 7; bytes && length >= 8 && i >= 0; i--)
        header_length = header_length << 8 | bytes[i];
    CHECK(bytes && (8 + header_length) % 8 == 0 && header_length < length, "data starts 8-byte aligned");
    CHECK(bytes && memcmp(bytes + 8, "{\"__metadata__\":", 16) == 0, "metadata first");
    free(bytes);

    CHECK_OK(dn_safetensors_read(&back, path));
    CHECK(back.count == st.count && back.meta_count == st.meta_count, "counts %d %d", back.count, back.meta_count);
    for (int i = 0; i < st.count && i < back.count; i++)
        CHECK(tensors_equal(&st.tensors[i], &back.tensors[i]), "tensor %d identical, in insertion order", i);
    for (int i = 0; i < st.meta_count && i < back.meta_count; i++)
        CHECK(strcmp(st.meta[i].key, back.meta[i].key) == 0 && strcmp(st.meta[i].value, back.meta[i].value) == 0,
              "metadata %d identical", i);
    const dn_st_tensor *t = dn_safetensors_find(&back, "temperature");
    CHECK(t && t->ndim == 0 && t->size == 1 && t->data[0] == 0.75f, "scalar survives");
    t = dn_safetensors_find(&back, "empty");
    CHECK(t && t->ndim == 2 && t->shape[0] == 0 && t->shape[1] == 4 && t->size == 0 && t->data, "empty tensor");
    t = dn_safetensors_find(&back, "w\"\xc3\xa9\n");
    CHECK(t && isnan(t->data[2]) && same_bits(t->data[3], -0.0f) && t->data[4] == 1e-45f, "special values");
    dn_safetensors_free(&back);

    /* writing again replaces the file through a rename: new inode, old mode */
    struct stat before, after;
    chmod(path, 0600);
    stat(path, &before);
    dn_safetensors other = {0};
    build_sample(&other, 5.0f);
    CHECK_OK(dn_safetensors_write(&other, path));
    stat(path, &after);
    CHECK(before.st_ino != after.st_ino, "replaced by rename, not rewritten in place");
    CHECK((after.st_mode & 0777) == 0600, "mode kept: %o", (unsigned)(after.st_mode & 0777));
    CHECK_OK(dn_safetensors_read(&back, path));
    t = dn_safetensors_find(&back, "layer1.bias");
    CHECK(t && t->data[0] == 5.0f, "second write's values read back");
    dn_safetensors_free(&back);
    list_dir(dir, names, sizeof names);
    CHECK(strcmp(names, "model.safetensors") == 0, "no temporary files left: %s", names);

    /* writing the same object twice gives the same bytes */
    char path2[512];
    snprintf(path2, sizeof path2, "%s/again.safetensors", dir);
    CHECK_OK(dn_safetensors_write(&other, path2));
    size_t la = 0, lb = 0;
    char *fa = dn_test_read_file(path, &la), *fb = dn_test_read_file(path2, &lb);
    CHECK(fa && fb && la == lb && memcmp(fa, fb, la) == 0, "deterministic output");
    free(fa);
    free(fb);
    unlink(path2);

    /* failures leave the destination alone and no temporary behind */
    char *original = dn_test_read_file(path, &la);
    dn_safetensors broken = other;
    dn_st_tensor twice[2] = {other.tensors[0], other.tensors[0]};
    broken.tensors = twice;
    broken.count = 2;
    CHECK(dn_safetensors_write(&broken, path) == DN_ERR_ARG, "duplicate names refused by write");
    twice[1].name = "x";
    twice[1].size = 3;
    CHECK(dn_safetensors_write(&broken, path) == DN_ERR_ARG, "size that disagrees with the shape refused");
    char *now = dn_test_read_file(path, &lb);
    CHECK(original && now && la == lb && memcmp(original, now, la) == 0, "destination untouched");
    free(original);
    free(now);

    char blocked[512];
    snprintf(blocked, sizeof blocked, "%s/adir", dir);
    mkdir(blocked, 0755);
    dn_status status = dn_safetensors_write(&other, blocked);
    CHECK(status == DN_ERR_IO && strstr(dn_last_error(), blocked), "rename over a directory fails: %s",
          dn_last_error());
    struct stat info;
    CHECK(stat(blocked, &info) == 0 && S_ISDIR(info.st_mode), "directory left as it was");
    list_dir(dir, names, sizeof names);
    CHECK(strcmp(names, "adir model.safetensors") == 0, "temporary removed after a failure: %s", names);
    rmdir(blocked);

    char missing[512];
    snprintf(missing, sizeof missing, "%s/no/such/dir.safetensors", dir);
    CHECK(dn_safetensors_write(&other, missing) == DN_ERR_IO && strstr(dn_last_error(), missing),
          "missing directory: %s", dn_last_error());
    CHECK(dn_safetensors_read(&back, missing) == DN_ERR_IO && back.count == 0, "reading a missing file");
    CHECK(dn_safetensors_read(&back, dir) == DN_ERR_IO, "reading a directory: %s", dn_last_error());

    unlink(path);
    dn_safetensors_free(&st);
    dn_safetensors_free(&other);
}

/* ---- a file written with PyTorch ---- */

static void test_torch_fixture(void)
{
    dn_safetensors st;
    CHECK_OK(dn_safetensors_read(&st, DN_TEST_FIXTURES "/torch_small.safetensors"));
    char *text = dn_test_read_file(DN_TEST_FIXTURES "/torch_small.txt", NULL);
    CHECK(text != NULL, "torch_small.txt");
    int tensors = 0, metas = 0;
    char *save_line = NULL;
    for (char *line = text ? strtok_r(text, "\n", &save_line) : NULL; line; line = strtok_r(NULL, "\n", &save_line)) {
        if (strncmp(line, "meta ", 5) == 0) {
            char *key = line + 5, *value = strchr(key, ' ');
            if (!value)
                continue;
            *value++ = '\0';
            const char *got = dn_safetensors_meta(&st, key);
            CHECK(got && strcmp(got, value) == 0, "metadata %s = %s (got %s)", key, value, got ? got : "none");
            metas++;
            continue;
        }
        char *save = NULL;
        strtok_r(line, " ", &save);
        const char *name = strtok_r(NULL, " ", &save);
        const char *dtype = strtok_r(NULL, " ", &save);
        int ndim = atoi(strtok_r(NULL, " ", &save));
        const dn_st_tensor *t = dn_safetensors_find(&st, name);
        CHECK(t != NULL, "tensor %s (%s) present", name, dtype);
        if (!t)
            continue;
        tensors++;
        CHECK(t->ndim == ndim, "%s ndim %d", name, t->ndim);
        for (int d = 0; d < ndim; d++) {
            int dim = atoi(strtok_r(NULL, " ", &save));
            CHECK(d < t->ndim && t->shape[d] == dim, "%s shape[%d] = %d", name, d, dim);
        }
        strtok_r(NULL, " ", &save); /* ":" */
        size_t count = 0;
        bool values_ok = true;
        for (const char *v; (v = strtok_r(NULL, " ", &save)) != NULL; count++) {
            float want = strtof(v, NULL);
            bool ok = count < t->size && (isnan(want) ? isnan(t->data[count]) : same_bits(want, t->data[count]));
            if (!ok)
                CHECK(false, "%s[%zu] = %s, got %.9g", name, count, v, count < t->size ? t->data[count] : 0.0);
            values_ok &= ok;
        }
        CHECK(values_ok && count == t->size, "%s: %zu values match PyTorch's float32 bit for bit", name, count);
    }
    CHECK(tensors == 8 && tensors == st.count, "all %d tensors checked", st.count);
    CHECK(metas == 3 && metas == st.meta_count, "all %d metadata checked", st.meta_count);
    const dn_st_tensor *w = dn_safetensors_find(&st, "fc.weight");
    CHECK(w && w->ndim == 2 && w->shape[0] == 4 && w->shape[1] == 3 && w->size == 12, "fc.weight is [4,3]");
    free(text);
    dn_safetensors_free(&st);
}

/* ---- hand-made valid and broken files ---- */

static void test_small_valid(void)
{
    dn_safetensors st;
    CHECK_OK(parse_text(&st, "{}      ", 0));
    CHECK(st.count == 0 && st.meta_count == 0, "empty header padded with spaces");
    dn_safetensors_free(&st);

    /* 1.5 in each dtype, as explicit little-endian bytes */
    static const uint8_t data[] = {0x00, 0x00, 0xc0, 0x3f, 0xc0, 0x3f, 0x00, 0x3e,
                                   0, 0, 0, 0, 0, 0, 0xf8, 0x3f};
    const char *header = "{\"f32\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                         "\"bf16\":{\"data_offsets\":[4,6],\"shape\":[1,1],\"dtype\":\"BF16\",\"extra\":[1]},"
                         "\"f16\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[6,8]},"
                         "\"\\u00e9\\ud83d\\ude00\\\"\\\\/\":{\"dtype\":\"F64\",\"shape\":[1,1,1,1],"
                         "\"data_offsets\":[8,16]},"
                         "\"__metadata__\":{}}";
    size_t length;
    uint8_t *bytes = make_file(header, data, sizeof data, &length);
    CHECK_OK(dn_safetensors_parse(&st, bytes, length, "small"));
    CHECK(st.count == 4 && st.meta_count == 0, "four tensors, in header order");
    static const char *const names[] = {"f32", "bf16", "f16", "\xc3\xa9\xf0\x9f\x98\x80\"\\/"};
    for (int i = 0; i < st.count && i < 4; i++)
        CHECK(strcmp(st.tensors[i].name, names[i]) == 0 && st.tensors[i].size == 1 &&
                  st.tensors[i].data[0] == 1.5f, "tensor %d (%s) = 1.5: %g", i, names[i], st.tensors[i].data[0]);
    CHECK(st.count == 4 && st.tensors[0].ndim == 0 && st.tensors[3].ndim == 4, "scalar and 4-D");
    dn_safetensors_free(&st);
    free(bytes);

    /* a zero-size tensor shares its offset with the next one */
    CHECK_OK(parse_text(&st, "{\"z\":{\"dtype\":\"F16\",\"shape\":[3,0],\"data_offsets\":[0,0]},"
                             "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4));
    CHECK(st.count == 2 && st.tensors[0].size == 0 && st.tensors[1].size == 1, "zero-size tensor");
    dn_safetensors_free(&st);
}

typedef struct bad_case {
    const char *label;
    const char *header;
    size_t data_bytes;
    dn_status expect;
    const char *mention; /* the message must contain this */
} bad_case;

#define T(dtype, shape, offsets) "{\"t\":{\"dtype\":" dtype ",\"shape\":" shape ",\"data_offsets\":" offsets "}}"

static const bad_case bad_cases[] = {
    {"array header", "[1]", 0, DN_ERR_FORMAT, "'{'"},
    {"leading space", " {}", 0, DN_ERR_FORMAT, "'{'"},
    {"byte-order mark", "\xef\xbb\xbf{}", 0, DN_ERR_FORMAT, "'{'"},
    {"malformed JSON", "{\"t\":{\"dtype\":\"F32\"", 0, DN_ERR_FORMAT, "header JSON"},
    {"trailing garbage", "{} x", 0, DN_ERR_FORMAT, "after the JSON value"},
    {"entry not an object", "{\"t\":1}", 0, DN_ERR_FORMAT, "\"t\""},
    {"missing dtype", "{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, DN_ERR_FORMAT, "dtype"},
    {"missing shape", "{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, DN_ERR_FORMAT, "shape"},
    {"missing offsets", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, DN_ERR_FORMAT, "data_offsets"},
    {"dtype number", T("32", "[1]", "[0,4]"), 4, DN_ERR_FORMAT, "dtype"},
    {"dtype I64", T("\"I64\"", "[1]", "[0,8]"), 8, DN_OK, NULL}, /* num_batches_tracked */
    {"dtype U8", T("\"U8\"", "[1]", "[0,1]"), 1, DN_ERR_UNSUPPORTED, "\"U8\""},
    {"dtype BOOL", T("\"BOOL\"", "[1]", "[0,1]"), 1, DN_ERR_UNSUPPORTED, "\"BOOL\""},
    {"dtype lower case", T("\"f32\"", "[1]", "[0,4]"), 4, DN_ERR_UNSUPPORTED, "\"f32\""},
    {"shape not array", T("\"F32\"", "1", "[0,4]"), 4, DN_ERR_FORMAT, "shape"},
    {"negative dim", T("\"F32\"", "[-1]", "[0,4]"), 4, DN_ERR_FORMAT, "shape[0]"},
    {"fractional dim", T("\"F32\"", "[1,2.5]", "[0,4]"), 4, DN_ERR_FORMAT, "shape[1]"},
    {"exponent dim", T("\"F32\"", "[1e0]", "[0,4]"), 4, DN_ERR_FORMAT, "shape[0]"},
    {"string dim", T("\"F32\"", "[\"1\"]", "[0,4]"), 4, DN_ERR_FORMAT, "shape[0]"},
    {"null dim", T("\"F32\"", "[null]", "[0,4]"), 4, DN_ERR_FORMAT, "shape[0]"},
    {"five dims", T("\"F32\"", "[1,1,1,1,1]", "[0,4]"), 4, DN_ERR_UNSUPPORTED, "5 dimensions"},
    {"dim over INT_MAX", T("\"F32\"", "[2147483648]", "[0,4]"), 4, DN_ERR_FORMAT, "too large"},
    {"dim over 2^64", T("\"F32\"", "[18446744073709551616]", "[0,4]"), 4, DN_ERR_FORMAT, "shape[0]"},
    {"element count overflow", T("\"F64\"", "[2147483647,2147483647,2147483647,2147483647]", "[0,4]"), 4,
     DN_ERR_FORMAT, "too large"},
    {"offsets one number", T("\"F32\"", "[1]", "[0]"), 4, DN_ERR_FORMAT, "data_offsets"},
    {"offsets three numbers", T("\"F32\"", "[1]", "[0,4,4]"), 4, DN_ERR_FORMAT, "data_offsets"},
    {"offsets strings", T("\"F32\"", "[1]", "[\"0\",\"4\"]"), 4, DN_ERR_FORMAT, "data_offsets"},
    {"offsets negative", T("\"F32\"", "[1]", "[-4,0]"), 4, DN_ERR_FORMAT, "data_offsets"},
    {"offsets fractional", T("\"F32\"", "[1]", "[0,4.0]"), 4, DN_ERR_FORMAT, "data_offsets"},
    {"offsets object", T("\"F32\"", "[1]", "{}"), 4, DN_ERR_FORMAT, "data_offsets"},
    {"begin after end", T("\"F32\"", "[1]", "[4,0]"), 4, DN_ERR_FORMAT, "end before they begin"},
    {"end past data", T("\"F32\"", "[2]", "[0,8]"), 4, DN_ERR_FORMAT, "past the end"},
    {"huge end", T("\"F32\"", "[1]", "[0,18446744073709551615]"), 4, DN_ERR_FORMAT, "past the end"},
    {"size mismatch", T("\"F32\"", "[2]", "[0,4]"), 4, DN_ERR_FORMAT, "needs 8"},
    {"F16 size mismatch", T("\"F16\"", "[3]", "[0,4]"), 4, DN_ERR_FORMAT, "needs 6"},
    {"overlap",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
     12, DN_ERR_FORMAT, "overlap"},
    {"same range twice",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
     4, DN_ERR_FORMAT, "overlap"},
    {"hole",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
     12, DN_ERR_FORMAT, "belong to no tensor"},
    {"hole at start", T("\"F32\"", "[1]", "[4,8]"), 8, DN_ERR_FORMAT, "belong to no tensor"},
    {"trailing data bytes", T("\"F32\"", "[1]", "[0,4]"), 8, DN_ERR_FORMAT, "last 4 bytes"},
    {"data but no tensors", "{}", 4, DN_ERR_FORMAT, "belong to no tensor"},
    {"duplicate name",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
     8, DN_ERR_FORMAT, "duplicate key \"a\""},
    {"metadata string", "{\"__metadata__\":\"x\"}", 0, DN_ERR_FORMAT, "__metadata__"},
    {"metadata number value", "{\"__metadata__\":{\"k\":1}}", 0, DN_ERR_FORMAT, "\"k\""},
    {"metadata object value", "{\"__metadata__\":{\"k\":{}}}", 0, DN_ERR_FORMAT, "\"k\""},
    {"metadata NUL", "{\"__metadata__\":{\"k\":\"a\\u0000\"}}", 0, DN_ERR_FORMAT, "NUL"},
    {"two metadata", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, DN_ERR_FORMAT, "duplicate key"},
    {"name with NUL", "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
     DN_ERR_FORMAT, "NUL"},
    {"invalid UTF-8 name", "{\"\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
     DN_ERR_FORMAT, "UTF-8"},
    {"raw newline in name", "{\"a\nb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
     DN_ERR_FORMAT, "control character"},
    {"lone surrogate", "{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
     DN_ERR_FORMAT, "surrogate"},
    {"too deep",
     "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":"
     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
     4, DN_ERR_FORMAT, "too deep"},
    {"tab padding", "{}\t\t\t", 0, DN_OK, NULL}, /* JSON whitespace: accepted */
    {"leading zero", T("\"F32\"", "[01]", "[0,4]"), 4, DN_ERR_FORMAT, "leading zeros"},
};

static void test_bad_headers(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        dn_safetensors st;
        dn_clear_error();
        dn_status status = parse_text(&st, c->header, c->data_bytes);
        CHECK(status == c->expect, "%s: expected %s, got %s (%s)", c->label, dn_status_name(c->expect),
              dn_status_name(status), dn_last_error());
        if (c->expect != DN_OK) {
            CHECK(strstr(dn_last_error(), "bad.safetensors") != NULL, "%s: message names the file: %s", c->label,
                  dn_last_error());
            CHECK(strstr(dn_last_error(), c->mention) != NULL, "%s: message mentions %s: %s", c->label, c->mention,
                  dn_last_error());
            CHECK(st.count == 0 && st.tensors == NULL && st.meta == NULL, "%s: st left empty", c->label);
        }
        dn_safetensors_free(&st);
    }

    /* NUL bytes after the JSON are not padding */
    dn_safetensors st;
    size_t length;
    uint8_t *bytes = make_raw(4, "{}\0\0", 4, NULL, 0, &length);
    CHECK(dn_safetensors_parse(&st, bytes, length, "nul.st") == DN_ERR_FORMAT, "NUL padding refused");
    free(bytes);

    /* the length field */
    static const uint8_t tiny[7] = {0};
    for (size_t n = 0; n < 8; n++) {
        CHECK(dn_safetensors_parse(&st, n ? tiny : NULL, n > 7 ? 7 : n, "tiny.st") == DN_ERR_FORMAT &&
                  strstr(dn_last_error(), "tiny.st") && strstr(dn_last_error(), "too short"),
              "%zu-byte file refused: %s", n, dn_last_error());
    }
    bytes = make_raw(0, "{}", 2, NULL, 0, &length);
    CHECK(dn_safetensors_parse(&st, bytes, length, "zero.st") == DN_ERR_FORMAT &&
              strstr(dn_last_error(), "header length is 0"), "header length 0: %s", dn_last_error());
    free(bytes);
    bytes = make_raw(3, "{}", 2, NULL, 0, &length);
    CHECK(dn_safetensors_parse(&st, bytes, length, "long.st") == DN_ERR_FORMAT &&
              strstr(dn_last_error(), "past the end of the file"), "header past the file: %s", dn_last_error());
    free(bytes);
    bytes = make_raw((uint64_t)1 << 40, "{}", 2, NULL, 0, &length);
    CHECK(dn_safetensors_parse(&st, bytes, length, "huge.st") == DN_ERR_FORMAT &&
              strstr(dn_last_error(), "limit"), "absurd header length: %s", dn_last_error());
    free(bytes);
    bytes = make_raw(UINT64_MAX, "{}", 2, NULL, 0, &length);
    CHECK(dn_safetensors_parse(&st, bytes, length, "max.st") == DN_ERR_FORMAT, "2^64-1 header length");
    free(bytes);
    CHECK(dn_safetensors_parse(NULL, tiny, 7, "x") == DN_ERR_ARG, "NULL st");
    /* a file of another kind is named for what it is, not a huge length */
    static const char readme[] = "# digitnet\n\nHandwritten-digit recognition";
    CHECK(dn_safetensors_parse(&st, (const uint8_t *)readme, sizeof readme - 1, "README.md") == DN_ERR_FORMAT &&
              strstr(dn_last_error(), "not a safetensors file") && strstr(dn_last_error(), "# digitnet"),
          "a text file: %s", dn_last_error());
}

/* ---- truncation and random damage ---- */

static void test_truncation(void)
{
    size_t length = 0;
    uint8_t *bytes = (uint8_t *)dn_test_read_file(DN_TEST_FIXTURES "/torch_small.safetensors", &length);
    CHECK(bytes && length > 100, "fixture read");
    if (!bytes)
        return;
    int refused = 0;
    for (size_t n = 0; n < length; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan sees any overread */
        memcpy(copy, bytes, n);
        dn_safetensors st;
        dn_status status = dn_safetensors_parse(&st, copy, n, "cut.st");
        refused += status != DN_OK && st.count == 0 && st.tensors == NULL;
        dn_safetensors_free(&st);
        free(copy);
    }
    CHECK(refused == (int)length, "every one of the %zu truncations refused cleanly (%d)", length, refused);
    free(bytes);
}

static void test_byte_flips(void)
{
    size_t length = 0;
    uint8_t *bytes = (uint8_t *)dn_test_read_file(DN_TEST_FIXTURES "/torch_small.safetensors", &length);
    if (!bytes || length < 16) {
        CHECK(false, "fixture read");
        free(bytes);
        return;
    }
    size_t header_end = 8 + (size_t)(bytes[0] | bytes[1] << 8);
    dn_rng rng;
    dn_rng_seed(&rng, 12345);
    int parsed = 0, refused = 0, consistent = 0;
    uint8_t *copy = malloc(length);
    for (int trial = 0; trial < 4000; trial++) {
        memcpy(copy, bytes, length);
        int flips = 1 + (int)dn_rng_below(&rng, 3);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)dn_rng_below(&rng, header_end);
            if (dn_rng_below(&rng, 2))
                copy[at] ^= (uint8_t)(1u << dn_rng_below(&rng, 8));
            else
                copy[at] = (uint8_t)dn_rng_below(&rng, 256);
        }
        dn_safetensors st;
        dn_status status = dn_safetensors_parse(&st, copy, length, "flip.st");
        if (status == DN_OK) {
            parsed++;
            bool ok = st.count >= 0;
            for (int i = 0; i < st.count; i++) {
                const dn_st_tensor *t = &st.tensors[i];
                size_t size = 1;
                for (int d = 0; d < t->ndim; d++)
                    size *= (size_t)t->shape[d];
                ok &= t->ndim >= 0 && t->ndim <= 4 && t->size == size && t->data && t->name;
                for (size_t j = 0; j < t->size; j++)
                    ok &= t->data[j] == t->data[j] || isnan(t->data[j]);
            }
            consistent += ok;
        } else {
            refused += st.count == 0 && st.tensors == NULL && dn_last_error()[0] != '\0';
        }
        dn_safetensors_free(&st);
    }
    CHECK(parsed == consistent, "every accepted damaged file is self-consistent (%d of %d)", consistent, parsed);
    CHECK(parsed + refused == 4000, "each damaged file parsed or refused cleanly (%d + %d)", parsed, refused);
    CHECK(refused > 1000, "most header damage is caught (%d refused)", refused);
    free(copy);
    free(bytes);
}

int main(void)
{
    test_json_values();
    test_json_rejects();
    test_json_escape();
    test_builder();
    char dir[] = "/tmp/dn_test_safetensors_XXXXXX";
    if (mkdtemp(dir)) {
        test_exact_bytes(dir);
        test_round_trip(dir);
        rmdir(dir);
    } else
        CHECK(false, "mkdtemp");
    test_torch_fixture();
    test_small_valid();
    test_bad_headers();
    test_truncation();
    test_byte_flips();
    return dn_test_finish();
}
