/* http.h - the HTTP/1.x pieces a small server needs: parsing one request head
 * from a buffer, reading query parameters, and formatting response heads.
 * Knows nothing about sockets, routes or digits. All functions are
 * thread-safe. */
#ifndef CANVAS_HTTP_H
#define CANVAS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest request line plus headers; longer heads are answered with 431. */
#define HTTP_MAX_HEAD 8192

/* http_parse_head's answer when the head has not ended yet. */
#define HTTP_INCOMPLETE 0

typedef struct http_request {
    const char *method;    /* NUL-terminated strings inside the parsed buffer */
    const char *path;      /* the target before '?', e.g. "/api/predict" */
    const char *query;     /* the target after '?' ("w=8&h=8"), or "" */
    int minor_version;     /* HTTP/1.<minor_version>: 0 or 1 */
    bool has_content_length;
    size_t content_length; /* 0 without the header */
    bool keep_alive;       /* from the version and the Connection header */
    bool expect_continue;  /* "Expect: 100-continue" */
    size_t head_len;       /* bytes of the head, blank line included */
} http_request;

/* Parses the request head at the start of buf[0..len), writing NULs into the
 * head (bytes after it are left alone). Returns:
 *   -1                the head is complete and valid: *req is filled in;
 *   HTTP_INCOMPLETE   more bytes are needed (len < HTTP_MAX_HEAD);
 *   an HTTP status to answer with, *why saying what is wrong:
 *   400 a malformed request line, header, Content-Length or a missing Host
 *       (HTTP/1.1), 411 a POST/PUT/PATCH without Content-Length, 413 a
 *       Content-Length above max_body, 417 an Expect other than 100-continue,
 *   431 no end of the head within HTTP_MAX_HEAD bytes, 501 any
 *       Transfer-Encoding (chunked bodies are not supported), 505 a version
 *       other than HTTP/1.x.
 * Leading blank lines before the request line are skipped; lines may end in
 * CRLF or a bare LF. */
int http_parse_head(char *buf, size_t len, size_t max_body, http_request *req, const char **why);

/* Copies the raw value of key in a query string ("w=28&h=28") into
 * value[0..cap) and returns true; false when the key is absent or the value
 * does not fit. No percent-decoding. */
bool http_query_get(const char *query, const char *key, char *value, size_t cap);

/* True when the query string has the key, with or without a value. */
bool http_query_has(const char *query, const char *key);

/* The reason phrase of a status code ("Not Found"), "Unknown" for others. */
const char *http_reason(int status);

typedef struct http_response {
    int status;
    const char *content_type;
    const void *body;
    size_t body_len;
    const char *allow;         /* Allow header value (405), or NULL */
    const char *cache_control; /* Cache-Control value, or NULL */
    bool close;                /* end the connection after this response */
    bool chunked;              /* Transfer-Encoding: chunked instead of Content-Length */
    bool until_close;          /* neither: the body ends when the connection closes */
} http_response;

/* Largest head http_format_head writes for the fixed headers plus short
 * content_type, allow and cache_control values. */
#define HTTP_RESPONSE_HEAD_MAX 1024

/* Formats the status line and headers of res, ending with the blank line,
 * into dst[0..cap). Returns its length, or 0 when it does not fit. */
size_t http_format_head(const http_response *res, char *dst, size_t cap);

#endif
