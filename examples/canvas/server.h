/* server.h - a small HTTP/1.1 server: one accepting thread, a fixed pool of
 * worker threads fed through a bounded queue, keep-alive, timeouts, limits,
 * an access log on stderr, and a clean stop on SIGINT or SIGTERM. */
#ifndef CANVAS_SERVER_H
#define CANVAS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "strbuf.h"

/* Answers one complete request. Set res->status, content_type and either
 * res->body/body_len (memory that outlives the call, e.g. a compiled-in
 * asset) or leave res->body NULL and write the body into out. Called from
 * several worker threads at once: it must be thread-safe. For HEAD requests
 * the server drops the body itself. */
typedef void server_handler(void *ctx, const http_request *req, const uint8_t *body,
                            size_t body_len, http_response *res, strbuf *out);

typedef struct server_config {
    const char *host;    /* address to bind, e.g. "127.0.0.1" or "::" */
    int port;            /* 0: any free port (printed on stdout) */
    int threads;         /* worker threads, >= 1 */
    int queue;           /* accepted connections waiting for a worker; beyond: 503 */
    double timeout;      /* seconds to receive a whole request (then 408) and
                            to keep an idle keep-alive connection */
    size_t max_body;     /* larger Content-Length: 413 */
} server_config;

/* Binds, prints "listening on http://HOST:PORT/" on stdout, serves until
 * SIGINT or SIGTERM, then lets the workers finish their current request and
 * returns 0; returns 1 after printing why when it cannot start. The caller
 * must have blocked SIGINT and SIGTERM in every thread (server_block_signals,
 * before creating any thread) and ignored SIGPIPE. */
int server_run(const server_config *config, server_handler *handler, void *ctx);

/* Blocks SIGINT and SIGTERM in the calling thread (and the threads it will
 * create) so server_run can receive them synchronously, and ignores SIGPIPE. */
void server_block_signals(void);

#endif
