/* server.h - a small HTTP/1.1 server built so that slow or silent clients
 * cost no thread: one event-loop thread (epoll, non-blocking sockets) accepts,
 * reads request heads and bodies, and writes every response; a fixed pool of
 * worker threads only runs the handler, on complete requests. Keep-alive,
 * pipelining, Expect: 100-continue, deadlines, a cap on open connections and
 * on buffered request bytes, an access log on stderr, streamed responses
 * (for Server-Sent Events), and a clean stop on SIGINT or SIGTERM.
 *
 * A connection's life: the head must arrive within `timeout` of the accept
 * (or of the end of the previous response), the body by the later of that
 * deadline and min_body_rate bytes a second from the end of the head (else
 * 408 and close); the complete request goes on the work queue; a worker runs
 * the handler and hands the response back to the loop, which writes it
 * within `timeout` (else the connection closes). A kept-alive connection
 * that sends nothing for `idle_timeout` is closed silently. The queue holds
 * requests, not connections, and at most one per connection, so it cannot
 * overflow; a connection beyond max_conns gets a 503 at once and is closed. */
#ifndef CANVAS_SERVER_H
#define CANVAS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "strbuf.h"

/* One complete request, as a handler sees it. */
typedef struct server_request {
    const http_request *head;
    const uint8_t *body; /* head->content_length bytes */
    size_t body_len;
    struct server_call *call; /* opaque: what server_stream_open needs */
} server_request;

/* Answers one complete request. Set res->status, content_type and either
 * res->body/body_len (memory that outlives the server, e.g. a compiled-in
 * asset) or leave res->body NULL and write the body into out; every string
 * in res must be static. Called from several worker threads at once: it
 * must be thread-safe. For HEAD requests the server drops the body itself. */
typedef void server_handler(void *ctx, const server_request *req, http_response *res, strbuf *out);

typedef struct server_config {
    const char *host;     /* address to bind, e.g. "127.0.0.1" or "::" */
    int port;             /* 0: any free port (printed on stdout) */
    int threads;          /* worker threads, >= 1 */
    int max_conns;        /* open connections; beyond: 503 and close */
    double timeout;       /* seconds for a request's head (from the accept or the
                             previous response), and for writing a response */
    double idle_timeout;  /* seconds a kept-alive connection may send nothing */
    double min_body_rate; /* bytes/s a body may arrive at once the head is in */
    size_t max_body;      /* larger Content-Length: 413 */
    size_t max_buffered;  /* request bytes held in memory, all connections
                             together; a body that would pass it: 503 */
} server_config;

/* Binds, prints "listening on http://HOST:PORT/" on stdout, serves until
 * SIGINT or SIGTERM, then stops accepting, drops requests still arriving,
 * finishes the ones being answered (writing each within `timeout`), ends
 * streams, and returns 0; returns 1 after printing why when it cannot start.
 * The caller must have called server_block_signals before creating any
 * thread. Needs max_conns + about 16 file descriptors. */
int server_run(const server_config *config, server_handler *handler, void *ctx);

/* Blocks SIGINT and SIGTERM in the calling thread (and the threads it will
 * create) so server_run can receive them synchronously, and ignores SIGPIPE. */
void server_block_signals(void);

/* ---- streamed responses (Server-Sent Events, live progress) ----
 *
 * A handler that calls server_stream_open turns its response into a stream:
 * it sets res->status and content_type (e.g. "text/event-stream") as usual
 * and returns at once, so no worker waits on the client. The loop sends the
 * head with Transfer-Encoding: chunked (HTTP/1.1; HTTP/1.0 clients get a
 * body that ends when the connection closes), then each piece passed to
 * server_stream_send, from any thread, as the client takes it. The
 * connection stays open until server_stream_close (it then goes on with
 * keep-alive) or until the client goes away. */
typedef struct server_stream server_stream;

/* Bytes a stream may hold for a client that does not read them; a send
 * that would pass this ends the stream. */
#define SERVER_STREAM_MAX_QUEUED ((size_t)1 << 20)

/* From inside a handler: the stream for this request's response, or NULL
 * for a HEAD request or when out of memory (then answer normally). The
 * handler's body (res->body, out) is ignored. The caller owns the handle and
 * must pass it to server_stream_close once, from any thread, at any time,
 * even after server_run has returned. */
server_stream *server_stream_open(const server_request *req);

/* Queues len bytes (one chunk) for the client and wakes the loop; never
 * blocks on the client. Thread-safe. Returns false, sending nothing, once the
 * stream is over: the client left, fell SERVER_STREAM_MAX_QUEUED bytes
 * behind, the server is stopping or has stopped, or memory ran out. */
bool server_stream_send(server_stream *stream, const void *data, size_t len);

/* Ends the stream after what is queued has gone out, and gives up the
 * handle. Thread-safe. */
void server_stream_close(server_stream *stream);

#endif
