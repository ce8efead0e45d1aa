/* fuzz_http.c - libFuzzer harness for dn-canvas's request-head parser
 * (http_parse_head) and the query helpers it feeds (http_query_get/_has). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "http.h"

/* A NUL-terminated string that lies inside buf[0..len). */
static int string_inside(const char *s, const char *buf, size_t len)
{
    if (s < buf || s >= buf + len)
        return 0;
    return memchr(s, '\0', (size_t)(buf + len - s)) != NULL;
}

static void check_query(const char *query, const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"w", "h", "", "w=", "x"};
    char value[16];
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        int got = http_query_get(query, keys[k], value, sizeof value);
        if (got)
            DN_FUZZ_CHECK(strlen(value) < sizeof value && http_query_has(query, keys[k]));
    }
    /* A key taken from the input: the first bytes of the query itself. */
    char key[8];
    size_t n = size ? data[0] % sizeof key : 0;
    size_t q = strlen(query);
    if (n > q)
        n = q;
    memcpy(key, query, n);
    key[n] = '\0';
    if (http_query_get(query, key, value, sizeof value))
        DN_FUZZ_CHECK(http_query_has(query, key));
    DN_FUZZ_CHECK(!http_query_get(query, key, value, 0)); /* no room, not even for the NUL */
}

static void check_request(const http_request *req, const char *buf, size_t len, size_t max_body)
{
    DN_FUZZ_CHECK(req->head_len >= 4 && req->head_len <= len && req->head_len <= HTTP_MAX_HEAD);
    DN_FUZZ_CHECK(buf[req->head_len - 1] == '\n');
    DN_FUZZ_CHECK(string_inside(req->method, buf, req->head_len) && req->method[0] != '\0');
    DN_FUZZ_CHECK(string_inside(req->path, buf, req->head_len) && req->path[0] == '/');
    DN_FUZZ_CHECK(strchr(req->path, '?') == NULL);
    DN_FUZZ_CHECK(req->query[0] == '\0' || string_inside(req->query, buf, req->head_len));
    DN_FUZZ_CHECK(req->minor_version == 0 || req->minor_version == 1);
    DN_FUZZ_CHECK(req->content_length <= max_body);
    DN_FUZZ_CHECK(req->has_content_length || req->content_length == 0);
    DN_FUZZ_CHECK(!req->expect_continue || req->content_length > 0);
}

static int parse_copy(const uint8_t *bytes, size_t len, size_t max_body, http_request *req,
                      const char **why, char **out)
{
    char *buf = malloc(len ? len : 1); /* exactly len bytes, so ASan sees overreads */
    if (len)
        memcpy(buf, bytes, len);
    int status = http_parse_head(buf, len, max_body, req, why);
    *out = buf;
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Byte 0 picks the body limit: dn-canvas's 2 MiB or a small one. */
    size_t max_body = data[0] & 1 ? (size_t)2 << 20 : data[0];
    const uint8_t *bytes = data + 1;
    size_t len = size - 1;

    http_request req;
    const char *why = NULL;
    char *buf;
    memset(&req, 0xA5, sizeof req);
    int status = parse_copy(bytes, len, max_body, &req, &why, &buf);
    DN_FUZZ_CHECK(status == -1 || status == HTTP_INCOMPLETE || status == 400 || status == 411 ||
                  status == 413 || status == 417 || status == 431 || status == 501 || status == 505);
    if (status > 0)
        DN_FUZZ_CHECK(why && why[0] != '\0');
    if (status == HTTP_INCOMPLETE) {
        /* The server parses again as bytes arrive: nothing may be touched. */
        DN_FUZZ_CHECK(len < HTTP_MAX_HEAD);
        DN_FUZZ_CHECK(len == 0 || memcmp(buf, bytes, len) == 0);
    }
    if (status == -1) {
        check_request(&req, buf, len, max_body);
        check_query(req.query, bytes, len);
        /* The same head arriving in pieces: every shorter prefix waits for
         * more, or a request sent slowly would be refused. */
        size_t cuts[2] = {req.head_len - 1, len ? bytes[len - 1] % req.head_len : 0};
        for (int i = 0; i < 2; i++) {
            http_request part;
            const char *part_why;
            char *part_buf;
            int part_status = parse_copy(bytes, cuts[i], max_body, &part, &part_why, &part_buf);
            DN_FUZZ_CHECK(part_status == HTTP_INCOMPLETE);
            free(part_buf);
        }
    }
    free(buf);
    return 0;
}
