/* server_stream.c - streamed responses: a handle any thread pushes chunks
 * through without blocking, and the event loop's side that writes them out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

struct server_stream {
    pthread_mutex_t lock;
    int refs;     /* the producer's, the connection's, one while on the ready list */
    server *s;    /* NULL once the connection is gone: sends fail */
    conn *c;      /* read by the loop thread only */
    bool chunked; /* HTTP/1.1 chunk framing; HTTP/1.0: raw bytes, then the close */
    bool ended;   /* no more sends: the producer closed it, or the server stops */
    bool dead;    /* drop the connection: too far behind, or out of memory */
    bool queued;  /* on the server's ready list */
    strbuf pending; /* framed chunks the loop has not taken yet */
    server_stream *next_ready;
};

static void stream_unref(server_stream *st)
{
    pthread_mutex_lock(&st->lock);
    bool last = --st->refs == 0;
    pthread_mutex_unlock(&st->lock);
    if (last) {
        pthread_mutex_destroy(&st->lock);
        strbuf_free(&st->pending);
        free(st);
    }
}

/* Puts the stream on the loop's ready list; st->lock held, st->s set. */
static void notify_loop(server_stream *st)
{
    if (st->queued)
        return;
    st->queued = true;
    st->refs++;
    server *s = st->s;
    pthread_mutex_lock(&s->done_lock);
    st->next_ready = s->ready_streams;
    s->ready_streams = st;
    pthread_mutex_unlock(&s->done_lock);
    server_wake(s);
}

server_stream *server_stream_open(const server_request *req)
{
    conn *c = req->call;
    if (c->stream || strcmp(req->head->method, "HEAD") == 0)
        return NULL;
    server_stream *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    pthread_mutex_init(&st->lock, NULL);
    st->refs = 2;
    st->s = c->s;
    st->c = c;
    st->chunked = req->head->minor_version >= 1;
    c->stream = st;
    return st;
}

static bool queue_chunk(server_stream *st, const void *data, size_t len)
{
    if (st->pending.len + len + 32 > SERVER_STREAM_MAX_QUEUED)
        return false;
    if (st->chunked)
        strbuf_printf(&st->pending, "%zx\r\n", len);
    strbuf_append(&st->pending, data, len);
    if (st->chunked)
        strbuf_append(&st->pending, "\r\n", 2);
    return !st->pending.failed;
}

bool server_stream_send(server_stream *st, const void *data, size_t len)
{
    pthread_mutex_lock(&st->lock);
    bool ok = st->s && !st->ended && !st->dead;
    if (ok && len > 0) { /* an empty chunk would end a chunked body */
        ok = queue_chunk(st, data, len);
        st->dead = !ok;
        notify_loop(st);
    }
    pthread_mutex_unlock(&st->lock);
    return ok;
}

void server_stream_close(server_stream *st)
{
    pthread_mutex_lock(&st->lock);
    st->ended = true;
    if (st->s)
        notify_loop(st);
    pthread_mutex_unlock(&st->lock);
    stream_unref(st);
}

/* ---- the loop's side ---- */

/* The worker is done with c: sends the head of the streamed response. */
static void start_stream(conn *c)
{
    server_stream *st = c->stream;
    if (c->s->stopping) {
        pthread_mutex_lock(&st->lock);
        st->ended = true;
        pthread_mutex_unlock(&st->lock);
    }
    c->res.body = NULL;
    c->res.body_len = 0;
    c->res.chunked = st->chunked;
    c->res.until_close = !st->chunked;
    c->res.close = c->res.close || !c->req.keep_alive || c->s->stopping;
    size_t head_len = http_format_head(&c->res, c->res_head, sizeof c->res_head);
    c->state = CONN_STREAMING;
    c->head_len = head_len;
    c->sent = 0;
    c->stream_terminated = false;
    if (!head_len) {
        conn_finish_response(c, false);
        return;
    }
    conn_write(c, c->res_head, head_len);
}

void stream_drained(conn *c)
{
    server_stream *st = c->stream;
    if (c->state != CONN_STREAMING) {
        start_stream(c);
        return;
    }
    strbuf_reset(&c->stream_chunks);
    pthread_mutex_lock(&st->lock);
    strbuf taken = st->pending; /* swap: the producer gets the emptied buffer */
    st->pending = c->stream_chunks;
    c->stream_chunks = taken;
    bool ended = st->ended, dead = st->dead;
    pthread_mutex_unlock(&st->lock);

    if (c->stream_chunks.len) {
        conn_write(c, c->stream_chunks.data, c->stream_chunks.len);
    } else if (dead) {
        conn_finish_response(c, false);
    } else if (ended && st->chunked && !c->stream_terminated) {
        static const char last_chunk[] = "0\r\n\r\n";
        c->stream_terminated = true;
        conn_write(c, last_chunk, sizeof last_chunk - 1);
    } else if (ended) {
        conn_finish_response(c, true);
    } else {
        c->deadline = INFINITY; /* waiting for the producer, however long */
        conn_watch(c);
    }
}

void stream_handle_ready(server_stream *list)
{
    while (list) {
        server_stream *st = list;
        list = st->next_ready;
        pthread_mutex_lock(&st->lock);
        st->queued = false;
        conn *c = st->c;
        pthread_mutex_unlock(&st->lock);
        /* A connection still with its worker starts the stream in respond(). */
        if (c && c->state == CONN_STREAMING && !conn_output_pending(c))
            stream_drained(c);
        stream_unref(st);
    }
}

void stream_detach(conn *c)
{
    server_stream *st = c->stream;
    if (!st)
        return;
    c->stream = NULL;
    pthread_mutex_lock(&st->lock);
    st->c = NULL;
    st->s = NULL;
    st->dead = true;
    pthread_mutex_unlock(&st->lock);
    stream_unref(st);
}

void stream_stop(conn *c)
{
    server_stream *st = c->stream;
    pthread_mutex_lock(&st->lock);
    st->ended = true;
    pthread_mutex_unlock(&st->lock);
    if (!conn_output_pending(c))
        stream_drained(c);
}
