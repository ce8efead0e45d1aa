/* http.c - strict HTTP/1.x request-head parsing (RFC 9112 framing rules) and
 * response heads, over caller buffers; no sockets and no routing here. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* RFC 9110 token characters (methods, header names). */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* One line of the head: [start, end) without the line ending. */
typedef struct line {
    char *start;
    size_t len;
} line;

/* The line starting at *pos; false when no line ending follows within len. */
static bool next_line(char *buf, size_t len, size_t *pos, line *out)
{
    char *nl = memchr(buf + *pos, '\n', len - *pos);
    if (!nl)
        return false;
    out->start = buf + *pos;
    out->len = (size_t)(nl - out->start);
    if (out->len > 0 && out->start[out->len - 1] == '\r')
        out->len--;
    *pos = (size_t)(nl - buf) + 1;
    return true;
}

/* True when the comma-separated list value contains token (any case). */
static bool has_token(const char *value, const char *token)
{
    size_t n = strlen(token);
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - start) == n && strncasecmp(start, token, n) == 0)
            return true;
    }
    return false;
}

static int parse_request_line(line l, http_request *req, const char **why)
{
    char *p = l.start, *end = l.start + l.len;
    char *method = p;
    while (p < end && is_tchar((unsigned char)*p))
        p++;
    if (p == method || p == end || *p != ' ') {
        *why = "malformed request line: expected METHOD SP TARGET SP HTTP/1.x";
        return 400;
    }
    *p++ = '\0';
    char *target = p;
    while (p < end && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
        p++;
    if (p == target || p == end || *p != ' ') {
        *why = "malformed request line: bad request target";
        return 400;
    }
    *p++ = '\0';
    if (end - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
        p[7] < '0' || p[7] > '9') {
        *why = "malformed request line: bad HTTP version";
        return 400;
    }
    if (p[5] != '1') {
        *why = "only HTTP/1.0 and HTTP/1.1 are supported";
        return 505;
    }
    if (target[0] != '/') {
        *why = "the request target must be a path starting with '/'";
        return 400;
    }
    req->method = method;
    req->path = target;
    req->minor_version = p[7] == '0' ? 0 : 1;
    return 0;
}

/* Content-Length: digits only; values above max_body are 413 (saturating,
 * so a huge number is "too large", not "malformed"). */
static int parse_content_length(const char *value, size_t max_body, size_t *out, const char **why)
{
    if (!*value) {
        *why = "empty Content-Length";
        return 400;
    }
    size_t n = 0;
    bool huge = false;
    for (const char *p = value; *p; p++) {
        if (*p < '0' || *p > '9') {
            *why = "Content-Length is not a decimal number";
            return 400;
        }
        if (n > (SIZE_MAX - 9) / 10)
            huge = true;
        else
            n = n * 10 + (size_t)(*p - '0');
    }
    if (huge || n > max_body) {
        *why = "request body too large";
        return 413;
    }
    *out = n;
    return 0;
}

/* False when the bytes so far cannot begin a request line ("METHOD /target
 * HTTP/1.x"), so garbage is refused at once instead of after the timeout. */
static bool plausible_start(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
        i++;
    size_t method = i;
    while (i < len && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == len)
        return true;
    if (i == method || buf[i] != ' ')
        return false;
    i++;
    while (i < len && (unsigned char)buf[i] > 0x20 && (unsigned char)buf[i] < 0x7f)
        i++;
    if (i == len)
        return true;
    if (buf[i] != ' ')
        return false;
    static const char version[] = "HTTP/";
    i++;
    for (size_t k = 0; i < len && k < sizeof version - 1; i++, k++)
        if (buf[i] != version[k])
            return false;
    return true;
}

/* Finds the blank line that ends the head, before touching anything: -1
 * with *request_line (where the request line starts, after stray blank
 * lines) and req->head_len set, HTTP_INCOMPLETE, or 400/431. */
static int find_head_end(char *buf, size_t len, size_t *request_line, http_request *req,
                         const char **why)
{
    size_t limit = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
    bool seen_request_line = false;
    line l;
    *request_line = 0;
    for (size_t scan = 0; next_line(buf, limit, &scan, &l);) {
        if (l.len == 0 && !seen_request_line) {
            *request_line = scan; /* a stray blank line before the request line */
            continue;
        }
        if (l.len == 0) {
            req->head_len = scan;
            return -1;
        }
        seen_request_line = true;
    }
    if (!plausible_start(buf, limit)) {
        *why = "malformed request line: expected METHOD SP TARGET SP HTTP/1.x";
        return 400;
    }
    if (len >= HTTP_MAX_HEAD) {
        *why = "request line and headers exceed 8 KiB";
        return 431;
    }
    return HTTP_INCOMPLETE;
}

/* What the header lines said, beyond what goes into http_request. */
typedef struct header_facts {
    bool host, transfer_encoding, expect_other;
    const char *connection;
} header_facts;

/* Splits one header line into a NUL-terminated name and trimmed value. */
static int split_header(line l, const char **name, const char **value, const char **why)
{
    char *p = l.start, *end = l.start + l.len;
    while (p < end && is_tchar((unsigned char)*p))
        p++;
    if (p == l.start || p == end || *p != ':') {
        *why = l.start[0] == ' ' || l.start[0] == '\t' ? "folded header lines are not allowed"
                                                      : "malformed header line";
        return 400;
    }
    *p++ = '\0';
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (char *q = p; q < end; q++) {
        unsigned char c = (unsigned char)*q;
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            *why = "control character in a header value";
            return 400;
        }
    }
    *end = '\0';
    *name = l.start;
    *value = p;
    return 0;
}

/* Takes in one header; 0, or the status to answer with. */
static int note_header(const char *name, const char *value, size_t max_body, http_request *req,
                       header_facts *facts, const char **why)
{
    if (strcasecmp(name, "Content-Length") == 0) {
        size_t n;
        int status = parse_content_length(value, max_body, &n, why);
        if (status)
            return status;
        if (req->has_content_length && n != req->content_length) {
            *why = "conflicting Content-Length headers";
            return 400;
        }
        req->has_content_length = true;
        req->content_length = n;
    } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
        facts->transfer_encoding = true;
    } else if (strcasecmp(name, "Host") == 0) {
        if (facts->host) {
            *why = "more than one Host header";
            return 400;
        }
        facts->host = true;
    } else if (strcasecmp(name, "Connection") == 0) {
        facts->connection = value;
    } else if (strcasecmp(name, "Expect") == 0) {
        if (strcasecmp(value, "100-continue") == 0)
            req->expect_continue = true;
        else
            facts->expect_other = true;
    }
    return 0;
}

/* The rules that need every header: framing, Host, Expect, keep-alive. */
static int check_headers(http_request *req, const header_facts *facts, const char **why)
{
    if (facts->transfer_encoding) {
        *why = "Transfer-Encoding (chunked bodies) is not supported: send Content-Length";
        return 501;
    }
    if (req->minor_version == 1 && !facts->host) {
        *why = "HTTP/1.1 request without a Host header";
        return 400;
    }
    if (facts->expect_other) {
        *why = "only 'Expect: 100-continue' is supported";
        return 417;
    }
    if (!req->has_content_length &&
        (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
         strcmp(req->method, "PATCH") == 0)) {
        *why = "a request body needs a Content-Length header";
        return 411;
    }
    if (req->minor_version == 0)
        req->keep_alive = facts->connection && has_token(facts->connection, "keep-alive");
    else
        req->keep_alive = !(facts->connection && has_token(facts->connection, "close"));
    if (req->content_length == 0)
        req->expect_continue = false;
    return 0;
}

int http_parse_head(char *buf, size_t len, size_t max_body, http_request *req, const char **why)
{
    *req = (http_request){0};
    *why = "";
    size_t pos;
    int status = find_head_end(buf, len, &pos, req, why);
    if (status != -1)
        return status;
    size_t limit = req->head_len;
    line l;
    next_line(buf, limit, &pos, &l);
    status = parse_request_line(l, req, why);
    if (status)
        return status;

    header_facts facts = {0};
    while (next_line(buf, limit, &pos, &l) && l.len > 0) {
        const char *name, *value;
        status = split_header(l, &name, &value, why);
        if (!status)
            status = note_header(name, value, max_body, req, &facts, why);
        if (status)
            return status;
    }
    status = check_headers(req, &facts, why);
    if (status)
        return status;

    char *target = (char *)req->path;
    char *question = strchr(target, '?');
    if (question)
        *question = '\0';
    req->query = question ? question + 1 : "";
    return -1;
}

bool http_query_get(const char *query, const char *key, char *value, size_t cap)
{
    size_t key_len = strlen(key);
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > key_len && strncmp(p, key, key_len) == 0 && p[key_len] == '=') {
            size_t v = n - key_len - 1;
            if (v + 1 > cap)
                return false;
            memcpy(value, p + key_len + 1, v);
            value[v] = '\0';
            return true;
        }
        if (n == key_len && strncmp(p, key, key_len) == 0) {
            if (cap == 0)
                return false;
            value[0] = '\0';
            return true;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return false;
}

bool http_query_has(const char *query, const char *key)
{
    size_t key_len = strlen(key);
    for (const char *p = query; *p;) {
        size_t n = strcspn(p, "&");
        if (n >= key_len && strncmp(p, key, key_len) == 0 && (n == key_len || p[key_len] == '='))
            return true;
        p += n;
        if (*p == '&')
            p++;
    }
    return false;
}

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

size_t http_format_head(const http_response *res, char *dst, size_t cap)
{
    char framing[64] = ""; /* until_close: no header, the close ends the body */
    if (res->chunked)
        snprintf(framing, sizeof framing, "Transfer-Encoding: chunked\r\n");
    else if (!res->until_close)
        snprintf(framing, sizeof framing, "Content-Length: %zu\r\n", res->body_len);
    int n = snprintf(dst, cap,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "%s"
                     "Connection: %s\r\n"
                     "X-Content-Type-Options: nosniff\r\n"
                     "%s%s%s"
                     "%s%s%s"
                     "\r\n",
                     res->status, http_reason(res->status),
                     res->content_type ? res->content_type : "application/octet-stream", framing,
                     res->close || res->until_close ? "close" : "keep-alive",
                     res->allow ? "Allow: " : "", res->allow ? res->allow : "", res->allow ? "\r\n" : "",
                     res->cache_control ? "Cache-Control: " : "",
                     res->cache_control ? res->cache_control : "", res->cache_control ? "\r\n" : "");
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
