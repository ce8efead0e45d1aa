/* server.c - the socket side of dn-canvas: one epoll loop that accepts, reads
 * requests and writes responses without blocking, a worker pool that only
 * runs the handler on complete requests, deadlines, caps and the access log. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "digitnet/clock.h"
#include "digitnet/json.h"
#include "server_internal.h"

#define SWEEP_INTERVAL_S 0.1 /* how often deadlines are checked */
#define ACCEPT_PAUSE_S 0.1   /* after running out of file descriptors */
#define ACCEPTS_PER_TURN 64  /* so a flood of connects cannot starve the rest */
#define MAX_EVENTS 256
#define BODY_FIRST_ALLOC ((size_t)16 << 10)

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

void server_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void server_wake(server *s)
{
    uint64_t one = 1;
    ssize_t n = write(s->wake_fd, &one, sizeof one);
    (void)n; /* EAGAIN: the counter is already non-zero, the loop will wake */
}

static void log_request(const char *peer, const char *method, const char *path, const char *query,
                        int status, size_t bytes, double seconds)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s %s \"%s %.200s%s%.200s\" %d %zu %.2fms\n", when, peer, method, path,
            *query ? "?" : "", query, status, bytes, seconds * 1000);
}

/* ---- epoll interest and connection life ---- */

/* The events a connection waits for in its state. */
static uint32_t interest(const conn *c)
{
    switch (c->state) {
    case CONN_READ_HEAD:
        return EPOLLIN;
    case CONN_READ_BODY:
        return (c->body_have < c->req.content_length ? EPOLLIN : 0) |
               (conn_output_pending(c) ? EPOLLOUT : 0);
    case CONN_WORKING:
        return 0; /* unregistered, so a hang-up cannot make the loop spin */
    case CONN_WRITING:
        return EPOLLOUT;
    case CONN_STREAMING:
        return EPOLLRDHUP | (conn_output_pending(c) ? EPOLLOUT : 0);
    }
    return 0;
}

void conn_watch(conn *c)
{
    uint32_t events = interest(c);
    if (events == c->watching)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    int op = !c->watching ? EPOLL_CTL_ADD : !events ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    /* On failure the deadline sweep still ends the connection. */
    if (epoll_ctl(c->s->epoll_fd, op, c->fd, &ev) == 0 || op == EPOLL_CTL_DEL)
        c->watching = events;
}

static void release_body(conn *c)
{
    c->s->buffered -= c->body_cap;
    free(c->body);
    c->body = NULL;
    c->body_have = c->body_cap = 0;
}

static void conn_close(conn *c)
{
    server *s = c->s;
    stream_detach(c);
    close(c->fd); /* also removes it from the epoll set */
    c->fd = -1;
    release_body(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->conn_count--;
    c->next = s->closed; /* freed at the end of the turn: events may still name it */
    s->closed = c;
}

static void free_closed(server *s)
{
    while (s->closed) {
        conn *c = s->closed;
        s->closed = c->next;
        free(c->in);
        strbuf_free(&c->res_body);
        strbuf_free(&c->stream_chunks);
        free(c);
    }
}

static void conn_open(server *s, int fd, const char *peer, double now)
{
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->s = s;
    c->fd = fd;
    c->state = CONN_READ_HEAD;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->idle_since = now;
    c->deadline = now + s->config->timeout;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->conn_count++;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn_watch(c);
}

/* ---- writing ---- */

static void output_done(conn *c);
static void advance(conn *c);

/* Writes what is pending without blocking; calls output_done when all of
 * it went out. */
static void flush(conn *c)
{
    while (conn_output_pending(c)) {
        struct msghdr msg = {.msg_iov = c->out + c->out_first,
                             .msg_iovlen = (size_t)(c->out_count - c->out_first)};
        ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_watch(c);
            return;
        }
        if (n < 0) {
            if (c->state == CONN_WRITING || c->state == CONN_STREAMING)
                conn_finish_response(c, false);
            else
                conn_close(c);
            return;
        }
        c->sent += (size_t)n;
        for (size_t left = (size_t)n; left > 0;) {
            struct iovec *v = &c->out[c->out_first];
            size_t step = left < v->iov_len ? left : v->iov_len;
            v->iov_base = (char *)v->iov_base + step;
            v->iov_len -= step;
            left -= step;
            if (v->iov_len == 0)
                c->out_first++;
        }
        while (conn_output_pending(c) && c->out[c->out_first].iov_len == 0)
            c->out_first++;
    }
    c->out_first = c->out_count = 0;
    output_done(c);
}

static void set_output(conn *c, const void *a, size_t a_len, const void *b, size_t b_len)
{
    c->out[0] = (struct iovec){(void *)a, a_len};
    c->out[1] = (struct iovec){(void *)b, b_len};
    c->out_first = 0;
    c->out_count = b_len ? 2 : 1;
}

void conn_write(conn *c, const void *data, size_t len)
{
    set_output(c, data, len, NULL, 0);
    c->deadline = dn_seconds() + c->s->config->timeout;
    flush(c);
}

/* Sends c->res (with c->res_body or a static body); every response but a
 * stream goes out through here. */
static void send_response(conn *c)
{
    if (conn_output_pending(c)) { /* a 100 Continue the client is not reading */
        conn_close(c);
        return;
    }
    c->res.close = c->res.close || !c->have_req || !c->req.keep_alive || c->s->stopping;
    c->head_only = c->have_req && strcmp(c->req.method, "HEAD") == 0;
    size_t head_len = http_format_head(&c->res, c->res_head, sizeof c->res_head);
    if (!head_len) {
        conn_close(c);
        return;
    }
    c->state = CONN_WRITING;
    c->head_len = head_len;
    c->sent = 0;
    set_output(c, c->res_head, head_len, c->res.body, c->head_only ? 0 : c->res.body_len);
    c->deadline = dn_seconds() + c->s->config->timeout;
    flush(c);
}

/* Answers {"error": why} with status and closes after it. */
static void reply_error(conn *c, int status, const char *why)
{
    release_body(c);
    strbuf_reset(&c->res_body);
    size_t need = dn_json_escape(NULL, 0, why);
    char *quoted = malloc(need + 1);
    if (quoted) {
        dn_json_escape(quoted, need + 1, why);
        strbuf_printf(&c->res_body, "{\"error\":%s}\n", quoted);
        free(quoted);
    }
    c->res = (http_response){.status = status, .content_type = "application/json",
                             .body = c->res_body.data ? c->res_body.data : "",
                             .body_len = c->res_body.failed ? 0 : c->res_body.len, .close = true};
    send_response(c);
}

/* Reads the next request from what is left in in[]; the connection is idle
 * (or half-way through a pipelined head) from now. */
static void next_request(conn *c)
{
    double now = dn_seconds();
    if (c->consumed)
        memmove(c->in, c->in + c->consumed, c->in_len - c->consumed);
    c->in_len -= c->consumed;
    c->consumed = 0;
    c->have_req = false;
    c->state = CONN_READ_HEAD;
    c->idle_since = now;
    c->request_start = now;
    c->deadline = now + (c->in_len ? c->s->config->timeout : c->s->config->idle_timeout);
    if (!c->in_len) { /* an idle connection keeps no buffers */
        free(c->in);
        c->in = NULL;
        strbuf_free(&c->res_body);
    }
    advance(c);
}

void conn_finish_response(conn *c, bool ok)
{
    bool logged = c->have_req;
    log_request(c->peer, logged ? c->req.method : "-", logged ? c->req.path : "-",
                logged ? c->req.query : "", c->res.status,
                c->sent > c->head_len ? c->sent - c->head_len : 0,
                dn_seconds() - c->request_start);
    if (!ok || c->res.close || c->res.until_close || c->s->stopping) {
        conn_close(c);
        return;
    }
    stream_detach(c);
    next_request(c);
}

static void output_done(conn *c)
{
    switch (c->state) {
    case CONN_READ_BODY:
        advance(c);
        break;
    case CONN_WRITING:
        conn_finish_response(c, true);
        break;
    case CONN_STREAMING:
        stream_drained(c);
        break;
    default:
        conn_watch(c);
        break;
    }
}

/* ---- reading ---- */

/* Grows the body buffer toward Content-Length (doubling) within the
 * server's budget for request bytes. */
static bool grow_body(conn *c)
{
    server *s = c->s;
    size_t want = c->body_cap ? c->body_cap * 2 : BODY_FIRST_ALLOC;
    if (want > c->req.content_length)
        want = c->req.content_length;
    if (s->buffered - c->body_cap + want > s->config->max_buffered)
        return false;
    uint8_t *body = realloc(c->body, want);
    if (!body)
        return false;
    s->buffered += want - c->body_cap;
    c->body = body;
    c->body_cap = want;
    return true;
}

/* The head is parsed: moves what followed it into the body buffer. */
static bool start_body(conn *c)
{
    size_t after = c->in_len - c->req.head_len;
    size_t have = after < c->req.content_length ? after : c->req.content_length;
    if (c->req.content_length && !grow_body(c))
        return false;
    if (have)
        memcpy(c->body, c->in + c->req.head_len, have);
    c->body_have = have;
    c->consumed = c->req.head_len + have;
    c->state = CONN_READ_BODY;
    const server_config *cfg = c->s->config;
    double by_rate = dn_seconds() + (double)(c->req.content_length - have) / cfg->min_body_rate;
    double head_deadline = c->idle_since + cfg->timeout;
    c->deadline = by_rate > head_deadline ? by_rate : head_deadline;
    if (c->req.expect_continue && have < c->req.content_length)
        set_output(c, continue_line, sizeof continue_line - 1, NULL, 0);
    return true;
}

static void dispatch(conn *c)
{
    server *s = c->s;
    c->state = CONN_WORKING;
    c->deadline = INFINITY;
    conn_watch(c);
    pthread_mutex_lock(&s->work_lock);
    c->next_job = NULL;
    if (s->work_tail)
        s->work_tail->next_job = c;
    else
        s->work_head = c;
    s->work_tail = c;
    pthread_cond_signal(&s->work_ready);
    pthread_mutex_unlock(&s->work_lock);
}

/* Moves the connection on as far as the bytes it has allow: parses a head,
 * waits for the body, hands a complete request to the workers. */
static void advance(conn *c)
{
    if (c->state == CONN_READ_HEAD) {
        if (!c->in_len) {
            conn_watch(c);
            return;
        }
        const char *why;
        int status = http_parse_head(c->in, c->in_len, c->s->config->max_body, &c->req, &why);
        if (status == HTTP_INCOMPLETE) {
            conn_watch(c);
            return;
        }
        if (status > 0) {
            reply_error(c, status, why);
            return;
        }
        c->have_req = true;
        if (!start_body(c)) {
            reply_error(c, 503, "server busy: too many request bytes in memory, try again");
            return;
        }
    }
    if (conn_output_pending(c)) {
        flush(c); /* a 100 Continue; comes back here when written */
        return;
    }
    if (c->body_have < c->req.content_length) {
        conn_watch(c);
        return;
    }
    dispatch(c);
}

/* recv that tells apart data (> 0), nothing for now (-1) and the end (0). */
static ssize_t receive(conn *c, void *dst, size_t cap)
{
    for (;;) {
        ssize_t n = recv(c->fd, dst, cap, MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : 0;
    }
}

static void on_readable(conn *c)
{
    ssize_t n;
    if (c->state == CONN_READ_HEAD) {
        if (!c->in && !(c->in = malloc(HTTP_MAX_HEAD))) {
            conn_close(c);
            return;
        }
        n = receive(c, c->in + c->in_len, HTTP_MAX_HEAD - c->in_len);
        if (n > 0 && c->in_len == 0) {
            c->request_start = dn_seconds();
            c->deadline = c->idle_since + c->s->config->timeout;
        }
        if (n > 0)
            c->in_len += (size_t)n;
    } else if (c->state == CONN_READ_BODY && c->body_have < c->req.content_length) {
        if (c->body_have == c->body_cap && !grow_body(c)) {
            reply_error(c, 503, "server busy: too many request bytes in memory, try again");
            return;
        }
        n = receive(c, c->body + c->body_have, c->body_cap - c->body_have);
        if (n > 0)
            c->body_have += (size_t)n;
    } else {
        return;
    }
    if (n == 0) {
        conn_close(c); /* the client left before its request was complete */
        return;
    }
    if (n > 0)
        advance(c);
}

/* ---- answers from the workers ---- */

/* A worker answered c: send it (or start the stream it opened). */
static void respond(conn *c)
{
    release_body(c);
    if (c->stream) {
        stream_drained(c);
        return;
    }
    if (!c->res.body) {
        if (c->res_body.failed) {
            reply_error(c, 500, "out of memory");
            return;
        }
        c->res.body = c->res_body.data ? c->res_body.data : "";
        c->res.body_len = c->res_body.len;
    }
    send_response(c);
}

static void handle_wake(server *s)
{
    uint64_t count;
    ssize_t n = read(s->wake_fd, &count, sizeof count);
    (void)n;
    pthread_mutex_lock(&s->done_lock);
    conn *done = s->done_head;
    server_stream *streams = s->ready_streams;
    s->done_head = s->done_tail = NULL;
    s->ready_streams = NULL;
    pthread_mutex_unlock(&s->done_lock);
    while (done) {
        conn *c = done;
        done = c->next_job;
        respond(c);
    }
    stream_handle_ready(streams);
}

/* ---- workers ---- */

static conn *next_job(server *s)
{
    pthread_mutex_lock(&s->work_lock);
    while (!s->work_head && !s->workers_stop)
        pthread_cond_wait(&s->work_ready, &s->work_lock);
    conn *c = s->workers_stop ? NULL : s->work_head;
    if (c) {
        s->work_head = c->next_job;
        if (!s->work_head)
            s->work_tail = NULL;
    }
    pthread_mutex_unlock(&s->work_lock);
    return c;
}

static void *worker_main(void *arg)
{
    server *s = arg;
    conn *c;
    while ((c = next_job(s))) {
        c->res = (http_response){0};
        strbuf_reset(&c->res_body);
        server_request req = {.head = &c->req, .body = c->body,
                              .body_len = c->req.content_length, .call = c};
        s->handler(s->ctx, &req, &c->res, &c->res_body);
        pthread_mutex_lock(&s->done_lock);
        c->next_job = NULL;
        if (s->done_tail)
            s->done_tail->next_job = c;
        else
            s->done_head = c;
        s->done_tail = c;
        pthread_mutex_unlock(&s->done_lock);
        server_wake(s);
    }
    return NULL;
}

/* ---- accepting ---- */

static void format_peer(const struct sockaddr_storage *addr, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (addr->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(out, cap, "%s:%d", host, ntohs(a->sin_port));
    } else if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(out, cap, "[%s]:%d", host, ntohs(a->sin6_port));
    } else {
        snprintf(out, cap, "-");
    }
}

/* Over the connection cap: a 503 if the socket takes it at once, and close. */
static void refuse(int fd, const char *peer)
{
    static const char body[] = "{\"error\":\"too many connections, try again later\"}\n";
    char busy[256];
    int n = snprintf(busy, sizeof busy,
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\nRetry-After: 1\r\n\r\n%s",
                     sizeof body - 1, body);
    ssize_t sent = send(fd, busy, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)sent;
    log_request(peer, "-", "-", "", 503, sizeof body - 1, 0);
    close(fd);
}

static void watch_listener(server *s, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->listen_fd};
    epoll_ctl(s->epoll_fd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->listen_fd, &ev);
}

static void accept_connections(server *s, double now)
{
    for (int i = 0; i < ACCEPTS_PER_TURN; i++) {
        struct sockaddr_storage addr;
        socklen_t len = sizeof addr;
        int fd = accept4(s->listen_fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            /* Level-triggered: the pending connection would wake us at once. */
            watch_listener(s, false);
            s->accept_paused_until = now + ACCEPT_PAUSE_S;
        }
        if (fd < 0)
            return;
        char peer[INET6_ADDRSTRLEN + 8];
        format_peer(&addr, peer, sizeof peer);
        if (s->conn_count >= s->config->max_conns)
            refuse(fd, peer);
        else
            conn_open(s, fd, peer, now);
    }
}

/* A listening socket on host:port; -1 after printing why. */
static int open_listener(const char *host, int port, int *bound_port)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *list;
    int err = getaddrinfo(host, service, &hints, &list);
    if (err) {
        fprintf(stderr, "dn-canvas: --host %s: %s\n", host, gai_strerror(err));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    if (fd < 0) {
        fprintf(stderr, "dn-canvas: cannot listen on %s port %d: %s\n", host, port, strerror(saved));
        return -1;
    }
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    *bound_port = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                                   : ((struct sockaddr_in *)&addr)->sin_port);
    return fd;
}

/* ---- the loop ---- */

static void on_conn_event(conn *c, uint32_t events)
{
    if (c->fd >= 0 && (events & EPOLLOUT) && conn_output_pending(c))
        flush(c);
    if (c->fd >= 0 && (events & EPOLLIN))
        on_readable(c);
    if (c->fd >= 0 && (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) &&
        !(events & (EPOLLIN | EPOLLOUT)) && c->state != CONN_WORKING) {
        if (c->state == CONN_STREAMING || c->state == CONN_WRITING)
            conn_finish_response(c, false);
        else
            conn_close(c);
    }
}

/* SIGINT/SIGTERM: stop accepting, drop requests still arriving, end
 * streams; responses being prepared or written finish. */
static void begin_stop(server *s)
{
    s->stopping = true;
    close(s->listen_fd); /* also leaves the epoll set */
    s->listen_fd = -1;
    for (conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->state == CONN_READ_HEAD || c->state == CONN_READ_BODY)
            conn_close(c);
        else if (c->state == CONN_STREAMING)
            stream_stop(c);
    }
}

static void handle_signal(server *s)
{
    struct signalfd_siginfo info;
    if (read(s->signal_fd, &info, sizeof info) != (ssize_t)sizeof info || s->stopping)
        return;
    fprintf(stderr, "dn-canvas: %s, shutting down\n", strsignal((int)info.ssi_signo));
    begin_stop(s);
}

static void expire(conn *c)
{
    switch (c->state) {
    case CONN_READ_HEAD:
        if (c->in_len == 0)
            conn_close(c); /* idle: closed without a word */
        else
            reply_error(c, 408, "request not received in time");
        break;
    case CONN_READ_BODY:
        reply_error(c, 408, "request body not received in time");
        break;
    case CONN_WRITING:
    case CONN_STREAMING:
        conn_finish_response(c, false);
        break;
    case CONN_WORKING:
        break;
    }
}

static void sweep(server *s, double now)
{
    for (conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (now >= c->deadline)
            expire(c);
    }
    if (s->accept_paused_until && now >= s->accept_paused_until && !s->stopping) {
        s->accept_paused_until = 0;
        watch_listener(s, true);
    }
}

static int event_loop(server *s)
{
    struct epoll_event events[MAX_EVENTS];
    double next_sweep = dn_seconds() + SWEEP_INTERVAL_S;
    while (!s->stopping || s->conn_count > 0) {
        int n = epoll_wait(s->epoll_fd, events, MAX_EVENTS, (int)(SWEEP_INTERVAL_S * 1000));
        if (n < 0 && errno != EINTR) {
            perror("dn-canvas: epoll_wait");
            return 1;
        }
        double now = dn_seconds();
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &s->listen_fd)
                accept_connections(s, now);
            else if (tag == &s->signal_fd)
                handle_signal(s);
            else if (tag == &s->wake_fd)
                handle_wake(s);
            else
                on_conn_event(tag, events[i].events);
        }
        if (now >= next_sweep) {
            sweep(s, now);
            next_sweep = now + SWEEP_INTERVAL_S;
        }
        free_closed(s);
    }
    return 0;
}

/* ---- start and stop ---- */

static bool watch_fd(server *s, int fd, int *tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
    return epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

/* The descriptors of the loop; false after printing why. */
static bool open_loop(server *s, int *port)
{
    s->listen_fd = open_listener(s->config->host, s->config->port, port);
    if (s->listen_fd < 0)
        return false;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    s->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->signal_fd < 0 || s->epoll_fd < 0 || s->wake_fd < 0 ||
        !watch_fd(s, s->listen_fd, &s->listen_fd) || !watch_fd(s, s->signal_fd, &s->signal_fd) ||
        !watch_fd(s, s->wake_fd, &s->wake_fd)) {
        fprintf(stderr, "dn-canvas: cannot start: %s\n", strerror(errno));
        return false;
    }
    return true;
}

static void close_loop(server *s)
{
    int *fds[] = {&s->listen_fd, &s->signal_fd, &s->epoll_fd, &s->wake_fd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (*fds[i] >= 0)
            close(*fds[i]);
}

static void stop_workers(server *s, pthread_t *workers, int started)
{
    pthread_mutex_lock(&s->work_lock);
    s->workers_stop = true;
    pthread_cond_broadcast(&s->work_ready);
    pthread_mutex_unlock(&s->work_lock);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
}

int server_run(const server_config *config, server_handler *handler, void *ctx)
{
    server s = {.config = config, .handler = handler, .ctx = ctx,
                .listen_fd = -1, .epoll_fd = -1, .signal_fd = -1, .wake_fd = -1};
    pthread_mutex_init(&s.work_lock, NULL);
    pthread_cond_init(&s.work_ready, NULL);
    pthread_mutex_init(&s.done_lock, NULL);
    int port, started = 0, result = 1;
    pthread_t *workers = calloc((size_t)config->threads, sizeof *workers);
    if (workers && open_loop(&s, &port)) {
        while (started < config->threads &&
               pthread_create(&workers[started], NULL, worker_main, &s) == 0)
            started++;
        if (started < config->threads) {
            fprintf(stderr, "dn-canvas: cannot start worker threads\n");
        } else {
            bool v6 = strchr(config->host, ':') != NULL;
            printf("dn-canvas: listening on http://%s%s%s:%d/\n", v6 ? "[" : "", config->host,
                   v6 ? "]" : "", port);
            fflush(stdout);
            result = event_loop(&s);
        }
    } else if (!workers) {
        fprintf(stderr, "dn-canvas: cannot start: out of memory\n");
    }
    stop_workers(&s, workers, started);
    while (s.conns) /* only after a failure: a clean stop ends with none */
        conn_close(s.conns);
    stream_handle_ready(s.ready_streams); /* now detached: only released */
    free_closed(&s);
    close_loop(&s);
    free(workers);
    pthread_mutex_destroy(&s.done_lock);
    pthread_cond_destroy(&s.work_ready);
    pthread_mutex_destroy(&s.work_lock);
    return result;
}
