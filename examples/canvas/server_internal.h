/* server_internal.h - what server.c (the event loop) and server_stream.c
 * (streamed responses) share: the server, the connection, and the few calls
 * between them. Not for handlers: they see server.h only. */
#ifndef CANVAS_SERVER_INTERNAL_H
#define CANVAS_SERVER_INTERNAL_H

#include <arpa/inet.h>
#include <pthread.h>
#include <sys/uio.h>

#include "server.h"

typedef enum conn_state {
    CONN_READ_HEAD, /* waiting for a request head; idle while nothing came */
    CONN_READ_BODY, /* head parsed: the body arriving, or 100 Continue going out */
    CONN_WORKING,   /* with a worker: the loop leaves it alone */
    CONN_WRITING,   /* the response going out */
    CONN_STREAMING, /* a streamed response: chunks as server_stream_send queues them */
} conn_state;

typedef struct server server;
typedef struct server_call conn;

/* One client connection. The loop thread owns it, except in CONN_WORKING,
 * when exactly one worker does (and the loop only reads its state). */
struct server_call {
    server *s;
    int fd; /* -1 once closed (it is freed at the end of the loop's turn) */
    conn_state state;
    uint32_t watching; /* epoll events registered; 0: not registered */
    char peer[INET6_ADDRSTRLEN + 8];
    conn *prev, *next; /* every open connection, for the deadline sweep */
    conn *next_job;    /* link in the work queue or the done list */
    double deadline;   /* of the current state; INFINITY: none */
    double idle_since; /* the accept, or the end of the previous response */
    double request_start;

    /* The request: its head in `in` (HTTP_MAX_HEAD bytes once anything
     * arrived; what follows the head belongs to the body or the next
     * request), its body in `body`. */
    char *in;
    size_t in_len;
    size_t consumed; /* bytes of in[] the current request used */
    http_request req;
    bool have_req; /* req is parsed and valid */
    uint8_t *body;
    size_t body_have, body_cap;

    /* The response: written from out[out_first..out_count). */
    http_response res;
    strbuf res_body;
    bool head_only;
    char res_head[HTTP_RESPONSE_HEAD_MAX];
    struct iovec out[2];
    int out_first, out_count;
    size_t head_len; /* of the response being written */
    size_t sent;     /* bytes of it written so far, head included: the log
                        shows what reached the client, not what was meant to */
    server_stream *stream;
    strbuf stream_chunks; /* taken from the stream, being written */
    bool stream_terminated;
};

struct server {
    const server_config *config;
    server_handler *handler;
    void *ctx;
    int listen_fd, epoll_fd, signal_fd, wake_fd;
    bool stopping;
    double accept_paused_until; /* 0: accepting */
    conn *conns;                /* open connections */
    conn *closed;               /* closed this turn, freed at its end */
    int conn_count;
    size_t buffered; /* bytes of request bodies held, all connections */

    /* Complete requests for the workers. */
    pthread_mutex_t work_lock;
    pthread_cond_t work_ready;
    conn *work_head, *work_tail;
    bool workers_stop;

    /* Back to the loop, which wake_fd wakes: answered requests and streams
     * with something new. */
    pthread_mutex_t done_lock;
    conn *done_head, *done_tail;
    server_stream *ready_streams;
};

/* Wakes the loop thread (any thread). */
void server_wake(server *s);

static inline bool conn_output_pending(const conn *c)
{
    return c->out_first < c->out_count;
}

/* ---- server_stream.c, for the loop thread ---- */

/* The head of a streamed response has been written, or its last chunks:
 * takes what the producer queued since, or ends the response. */
void stream_drained(conn *c);

/* Handles the streams that server_stream_send/_close queued for the loop. */
void stream_handle_ready(server_stream *list);

/* The connection is going away: the stream's sends fail from now on. */
void stream_detach(conn *c);

/* The server is stopping: ends the stream once what is queued went out. */
void stream_stop(conn *c);

/* ---- server.c, for server_stream.c ---- */

/* Starts writing data[0..len) on a streaming connection (loop thread); it
 * must go out within the server's timeout. */
void conn_write(conn *c, const void *data, size_t len);

/* Registers the events c waits for in its state with epoll. */
void conn_watch(conn *c);

/* The response on c is complete (ok) or failed: logs it, then goes on with
 * the next request or closes. */
void conn_finish_response(conn *c, bool ok);

#endif
