/* server.c - the socket side of dn-canvas: an accept loop that also waits for
 * SIGINT/SIGTERM, a bounded queue, and worker threads serving keep-alive
 * connections with deadlines, size limits and an access log. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "digitnet/json.h"
#include "digitnet/clock.h"
#include "server.h"

/* How long an idle keep-alive connection is kept while other connections
 * wait for a worker (a fresh connection that has sent nothing yet gets
 * longer, it is probably about to). */
#define YIELD_KEEPALIVE_S 0.05
#define YIELD_FRESH_S 1.0
#define POLL_SLICE_MS 100

typedef struct pending {
    int fd;
    char peer[INET6_ADDRSTRLEN + 8];
} pending;

typedef struct server {
    const server_config *config;
    server_handler *handler;
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t ready;
    pending *queue; /* ring of config->queue entries */
    int head, count;
    atomic_int waiting; /* == count, readable without the lock */
    atomic_bool stopping;
} server;

/* One connection being served by a worker. */
typedef struct conn {
    server *s;
    int fd;
    const char *peer;
    char buf[HTTP_MAX_HEAD]; /* the next request's head, and what follows it */
    size_t len;
    bool served_one;
    strbuf out;
} conn;

enum { READ_CLOSED = 0, READ_TIMEOUT = -1, READ_STOP = -2 };

void server_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
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

/* Reads what is available into dst[0..cap), waiting until deadline. An idle
 * connection (nothing of a request received yet) gives READ_STOP when it has
 * been idle long enough while others wait for a worker. */
static ssize_t read_some(conn *c, void *dst, size_t cap, double deadline, bool idle)
{
    double idle_since = dn_seconds();
    double grace = c->served_one ? YIELD_KEEPALIVE_S : YIELD_FRESH_S;
    for (;;) {
        if (atomic_load(&c->s->stopping))
            return READ_STOP;
        double now = dn_seconds();
        if (now >= deadline)
            return READ_TIMEOUT;
        if (idle && now - idle_since >= grace && atomic_load(&c->s->waiting) > 0)
            return READ_STOP;
        int ms = (int)((deadline - now) * 1000) + 1;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int r = poll(&p, 1, ms < POLL_SLICE_MS ? ms : POLL_SLICE_MS);
        if (r < 0 && errno != EINTR)
            return READ_CLOSED;
        if (r <= 0)
            continue;
        ssize_t n = recv(c->fd, dst, cap, 0);
        if (n > 0)
            return n;
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        return READ_CLOSED;
    }
}

/* Answers with {"error": why} and the given status; the connection closes. */
static void send_error(conn *c, int status, const char *why, const char *method, const char *path,
                       const char *query, double start)
{
    strbuf_reset(&c->out);
    size_t need = dn_json_escape(NULL, 0, why);
    char *quoted = malloc(need + 1);
    if (quoted) {
        dn_json_escape(quoted, need + 1, why);
        strbuf_printf(&c->out, "{\"error\":%s}\n", quoted);
        free(quoted);
    }
    http_response res = {.status = status, .content_type = "application/json",
                         .body = c->out.data ? c->out.data : "", .body_len = c->out.len,
                         .close = true};
    http_write_response(c->fd, &res, false);
    log_request(c->peer, method, path, query, status, res.body_len, dn_seconds() - start);
}

/* Reads, answers and logs one request; false when the connection is done. */
static bool serve_request(conn *c)
{
    const server_config *cfg = c->s->config;
    double start = dn_seconds();
    double deadline = start + cfg->timeout;
    http_request req;
    const char *why;
    int status;
    while ((status = c->len ? http_parse_head(c->buf, c->len, cfg->max_body, &req, &why)
                            : HTTP_INCOMPLETE) == HTTP_INCOMPLETE) {
        bool idle = c->len == 0;
        ssize_t n = read_some(c, c->buf + c->len, sizeof c->buf - c->len, deadline, idle);
        if (n == READ_TIMEOUT && !idle)
            send_error(c, 408, "request not received in time", "-", "-", "", start);
        if (n <= 0)
            return false;
        if (idle)
            start = dn_seconds(), deadline = start + cfg->timeout;
        c->len += (size_t)n;
    }
    if (status > 0) {
        send_error(c, status, why, "-", "-", "", start);
        return false;
    }

    /* The body: what already arrived after the head, then the rest. */
    size_t body_len = req.content_length;
    uint8_t *body = body_len ? malloc(body_len) : NULL;
    if (body_len && !body) {
        send_error(c, 503, "out of memory", req.method, req.path, req.query, start);
        return false;
    }
    size_t have = c->len - req.head_len;
    if (have > body_len)
        have = body_len;
    if (have)
        memcpy(body, c->buf + req.head_len, have);
    size_t used = req.head_len + have;
    if (have < body_len && req.expect_continue) {
        static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
        http_write_all(c->fd, go_on, sizeof go_on - 1);
    }
    while (have < body_len) {
        ssize_t n = read_some(c, body + have, body_len - have, deadline, false);
        if (n <= 0) {
            if (n == READ_TIMEOUT)
                send_error(c, 408, "request body not received in time", req.method, req.path,
                           req.query, start);
            free(body);
            return false;
        }
        have += (size_t)n;
    }

    http_response res = {0};
    strbuf_reset(&c->out);
    c->s->handler(c->s->ctx, &req, body, body_len, &res, &c->out);
    free(body);
    if (!res.body) {
        if (c->out.failed) {
            send_error(c, 500, "out of memory", req.method, req.path, req.query, start);
            return false;
        }
        res.body = c->out.data ? c->out.data : "";
        res.body_len = c->out.len;
    }
    res.close = res.close || !req.keep_alive || atomic_load(&c->s->stopping);
    bool head_only = strcmp(req.method, "HEAD") == 0;
    bool written = http_write_response(c->fd, &res, head_only);
    log_request(c->peer, req.method, req.path, req.query, res.status, head_only ? 0 : res.body_len,
                dn_seconds() - start);

    /* Keep what the client already sent of its next request. */
    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= used;
    c->served_one = true;
    return written && !res.close;
}

static void serve(server *s, const pending *p)
{
    conn *c = malloc(sizeof *c);
    if (!c)
        return;
    *c = (conn){.s = s, .fd = p->fd, .peer = p->peer};
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    double t = s->config->timeout;
    struct timeval tv = {.tv_sec = (time_t)t, .tv_usec = (suseconds_t)((t - (double)(time_t)t) * 1e6)};
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    while (serve_request(c))
        ;
    strbuf_free(&c->out);
    free(c);
}

static void *worker_main(void *arg)
{
    server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (s->count == 0 && !atomic_load(&s->stopping))
            pthread_cond_wait(&s->ready, &s->lock);
        if (s->count == 0) {
            pthread_mutex_unlock(&s->lock);
            return NULL;
        }
        pending p = s->queue[s->head];
        s->head = (s->head + 1) % s->config->queue;
        s->count--;
        atomic_store(&s->waiting, s->count);
        pthread_mutex_unlock(&s->lock);
        serve(s, &p);
        close(p.fd);
    }
}

/* Queues an accepted connection, or answers 503 when the queue is full. */
static void enqueue(server *s, int fd, const char *peer)
{
    pthread_mutex_lock(&s->lock);
    bool full = s->count == s->config->queue;
    if (!full) {
        pending *p = &s->queue[(s->head + s->count) % s->config->queue];
        p->fd = fd;
        snprintf(p->peer, sizeof p->peer, "%s", peer);
        s->count++;
        atomic_store(&s->waiting, s->count);
        pthread_cond_signal(&s->ready);
    }
    pthread_mutex_unlock(&s->lock);
    if (full) {
        static const char busy[] = "{\"error\":\"server busy, try again\"}\n";
        http_response res = {.status = 503, .content_type = "application/json", .body = busy,
                             .body_len = sizeof busy - 1, .close = true};
        struct timeval tv = {.tv_sec = 1};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        http_write_response(fd, &res, false);
        log_request(peer, "-", "-", "", 503, res.body_len, 0);
        close(fd);
    }
}

static void format_peer(const struct sockaddr_storage *addr, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (addr->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
        snprintf(out, cap, "%s:%d", host, port);
    } else if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
        snprintf(out, cap, "[%s]:%d", host, port);
    } else {
        snprintf(out, cap, "-");
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
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
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

int server_run(const server_config *config, server_handler *handler, void *ctx)
{
    int port;
    int listen_fd = open_listener(config->host, config->port, &port);
    if (listen_fd < 0)
        return 1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
    server s = {.config = config, .handler = handler, .ctx = ctx};
    s.queue = calloc((size_t)config->queue, sizeof *s.queue);
    pthread_t *workers = calloc((size_t)config->threads, sizeof *workers);
    if (signal_fd < 0 || !s.queue || !workers) {
        fprintf(stderr, "dn-canvas: cannot start: %s\n", strerror(errno ? errno : ENOMEM));
        free(s.queue);
        free(workers);
        if (signal_fd >= 0)
            close(signal_fd);
        close(listen_fd);
        return 1;
    }
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.ready, NULL);
    int started = 0;
    while (started < config->threads && pthread_create(&workers[started], NULL, worker_main, &s) == 0)
        started++;
    int result = 0;
    if (started < config->threads) {
        fprintf(stderr, "dn-canvas: cannot start worker threads\n");
        result = 1;
    } else {
        bool v6 = strchr(config->host, ':') != NULL;
        printf("dn-canvas: listening on http://%s%s%s:%d/\n", v6 ? "[" : "", config->host,
               v6 ? "]" : "", port);
        fflush(stdout);
    }

    while (result == 0) {
        struct pollfd fds[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = signal_fd, .events = POLLIN}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("dn-canvas: poll");
            result = 1;
            break;
        }
        if (fds[1].revents) {
            struct signalfd_siginfo info;
            if (read(signal_fd, &info, sizeof info) == (ssize_t)sizeof info)
                fprintf(stderr, "dn-canvas: %s, shutting down\n", strsignal((int)info.ssi_signo));
            break;
        }
        if (fds[0].revents & POLLIN) {
            struct sockaddr_storage addr;
            socklen_t len = sizeof addr;
            int fd = accept4(listen_fd, (struct sockaddr *)&addr, &len, SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE)
                    poll(NULL, 0, 50); /* out of descriptors: let workers close some */
                continue;
            }
            char peer[INET6_ADDRSTRLEN + 8];
            format_peer(&addr, peer, sizeof peer);
            enqueue(&s, fd, peer);
        }
    }

    close(listen_fd);
    pthread_mutex_lock(&s.lock);
    atomic_store(&s.stopping, true);
    pthread_cond_broadcast(&s.ready);
    pthread_mutex_unlock(&s.lock);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
    pthread_cond_destroy(&s.ready);
    pthread_mutex_destroy(&s.lock);
    free(s.queue);
    free(workers);
    close(signal_fd);
    return result;
}
