/* test_server_core.c - the dn-canvas server core without models: a tiny
 * handler served from a child process, checked over loopback: streams pushed
 * from other threads, clients that never read, the connection cap,
 * 100-continue, pipelining, the idle timeout and a clean stop mid-stream.
 * One worker thread, so any request that pinned it would show at once.
 * usage: test_server_core */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "proc.h"
#include "server.h"

#define CORE_MAX_CONNS 64
#define CORE_TIMEOUT 2.0
#define CORE_IDLE_TIMEOUT 1.0
#define BIG_BODY ((size_t)4 << 20)
#define MAX_PRODUCERS 64
#define QUICK 0.5 /* seconds: what "answered at once" means here */


/* ---- the server side (in the child) ---- */

typedef struct producer {
    struct core *core;
    server_stream *stream;
    int count, interval_ms;
    bool flood; /* 64 KiB chunks as fast as they are taken, until refused */
} producer;

typedef struct core {
    char *big;
    pthread_mutex_t lock;
    pthread_t threads[MAX_PRODUCERS];
    producer producers[MAX_PRODUCERS];
    int producer_count;
    atomic_int stream_refused, flood_refused, streams_closed;
} core;

static void *produce(void *arg)
{
    producer *p = arg;
    bool ok = true;
    if (p->flood) {
        static const char chunk[64 << 10];
        double deadline = tc_now() + 20;
        while (ok && tc_now() < deadline) {
            ok = server_stream_send(p->stream, chunk, sizeof chunk);
            usleep(500);
        }
    } else {
        for (int i = 0; ok && i < p->count; i++) {
            char event[32];
            int n = snprintf(event, sizeof event, "data: %d\n\n", i);
            ok = server_stream_send(p->stream, event, (size_t)n);
            usleep((useconds_t)p->interval_ms * 1000);
        }
    }
    if (!ok)
        atomic_fetch_add(p->flood ? &p->core->flood_refused : &p->core->stream_refused, 1);
    server_stream_close(p->stream);
    atomic_fetch_add(&p->core->streams_closed, 1);
    return NULL;
}

static int query_int(const char *query, const char *key, int fallback)
{
    char value[16];
    return http_query_get(query, key, value, sizeof value) ? atoi(value) : fallback;
}

static void start_stream(core *k, const server_request *req, http_response *res, bool flood)
{
    server_stream *stream = server_stream_open(req);
    pthread_mutex_lock(&k->lock);
    int i = k->producer_count;
    bool room = stream && i < MAX_PRODUCERS;
    if (room) {
        k->producers[i] = (producer){.core = k, .stream = stream, .flood = flood,
                                     .count = query_int(req->head->query, "n", 5),
                                     .interval_ms = query_int(req->head->query, "ms", 10)};
        room = pthread_create(&k->threads[i], NULL, produce, &k->producers[i]) == 0;
        k->producer_count += room;
    }
    pthread_mutex_unlock(&k->lock);
    if (!room && stream)
        server_stream_close(stream);
    res->status = room ? 200 : 500;
    res->content_type = "text/event-stream";
}

static void handle(void *arg, const server_request *req, http_response *res, strbuf *out)
{
    core *k = arg;
    const char *path = req->head->path;
    res->status = 200;
    res->content_type = "text/plain";
    if (strcmp(path, "/hello") == 0) {
        strbuf_printf(out, "hello\n");
    } else if (strcmp(path, "/big") == 0) {
        res->body = k->big;
        res->body_len = BIG_BODY;
    } else if (strcmp(path, "/echo") == 0) {
        strbuf_printf(out, "%zu:%.*s\n", req->body_len, (int)req->body_len, (const char *)req->body);
    } else if (strcmp(path, "/stream") == 0 || strcmp(path, "/flood") == 0) {
        start_stream(k, req, res, strcmp(path, "/flood") == 0);
    } else if (strcmp(path, "/stats") == 0) {
        strbuf_printf(out, "stream_refused=%d flood_refused=%d closed=%d\n",
                      atomic_load(&k->stream_refused), atomic_load(&k->flood_refused),
                      atomic_load(&k->streams_closed));
    } else {
        res->status = 404;
        strbuf_printf(out, "not found\n");
    }
}

static int serve(void *arg)
{
    core *k = arg;
    server_block_signals();
    k->big = malloc(BIG_BODY);
    if (!k->big)
        return 1;
    memset(k->big, 'b', BIG_BODY);
    pthread_mutex_init(&k->lock, NULL);
    server_config config = {.host = "127.0.0.1", .port = 0, .threads = 1,
                            .max_conns = CORE_MAX_CONNS, .timeout = CORE_TIMEOUT,
                            .idle_timeout = CORE_IDLE_TIMEOUT, .min_body_rate = 1024,
                            .max_body = 1 << 20, .max_buffered = 8 << 20};
    int status = server_run(&config, handle, k);
    for (int i = 0; i < k->producer_count; i++)
        pthread_join(k->threads[i], NULL);
    pthread_mutex_destroy(&k->lock);
    free(k->big);
    return status;
}

/* ---- the client side ---- */

static int get(int port, const char *path, tc_response *r)
{
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    return tc_exchange(port, req, (size_t)n, r);
}

/* GET /hello on a fresh connection: how long the 200 took, or 99. */
static double hello_seconds(int port)
{
    tc_response r = {0};
    double t0 = tc_now();
    int status = get(port, "/hello", &r);
    double took = tc_now() - t0;
    bool ok = status == 200 && r.body && strcmp(r.body, "hello\n") == 0;
    tc_response_free(&r);
    return ok ? took : 99;
}

/* One of the counters /stats reports. */
static int stat_value(int port, const char *name)
{
    tc_response r = {0};
    int value = -1;
    if (get(port, "/stats", &r) == 200 && r.body) {
        const char *at = strstr(r.body, name);
        if (at)
            value = atoi(at + strlen(name) + 1);
    }
    tc_response_free(&r);
    return value;
}

/* Waits up to timeout seconds for a /stats counter to reach at least want. */
static bool wait_stat(int port, const char *name, int want, double timeout)
{
    double deadline = tc_now() + timeout;
    while (tc_now() < deadline) {
        if (stat_value(port, name) >= want)
            return true;
        usleep(50000);
    }
    return false;
}

/* Reads one CRLF-terminated line (without it) within the deadline. */
static bool read_line(int fd, char *line, size_t cap, double deadline)
{
    size_t len = 0;
    while (len + 1 < cap) {
        char c;
        if (tc_recv(fd, &c, 1, deadline - tc_now()) != 1)
            return false;
        if (c == '\n') {
            if (len && line[len - 1] == '\r')
                len--;
            line[len] = '\0';
            return true;
        }
        line[len++] = c;
    }
    return false;
}

/* Decodes a chunked body into out; its length, or -1 if it did not end
 * properly within timeout seconds. */
static long read_chunked(int fd, char *out, size_t cap, double timeout)
{
    double deadline = tc_now() + timeout;
    size_t len = 0;
    for (;;) {
        char line[64];
        if (!read_line(fd, line, sizeof line, deadline))
            return -1;
        size_t size = strtoul(line, NULL, 16);
        if (size == 0)
            return read_line(fd, line, sizeof line, deadline) && line[0] == '\0' ? (long)len : -1;
        for (size_t got = 0; got < size + 2;) {
            char buf[256];
            size_t want = size + 2 - got < sizeof buf ? size + 2 - got : sizeof buf;
            long n = tc_recv(fd, buf, want, deadline - tc_now());
            if (n <= 0)
                return -1;
            for (long i = 0; i < n; i++, got++)
                if (got < size && len + 1 < cap)
                    out[len++] = buf[i];
        }
        out[len] = '\0';
    }
}

static void expected_events(int n, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "data: %d\n\n", i);
}

static void test_stream(int port)
{
    int fd = tc_connect(port);
    static const char req[] = "GET /stream?n=5&ms=20 HTTP/1.1\r\nHost: x\r\n\r\n";
    tc_response r = {0};
    int status = fd >= 0 && tc_send(fd, req, sizeof req - 1) ? tc_read_response(fd, &r, false, 5) : -1;
    char te[32] = "", body[256], want[256];
    tc_header(&r, "Transfer-Encoding", te, sizeof te);
    long n = status == 200 ? read_chunked(fd, body, sizeof body, 5) : -1;
    expected_events(5, want, sizeof want);
    check(status == 200 && strcmp(te, "chunked") == 0 && n >= 0 && strcmp(body, want) == 0,
          "stream: 200, chunked, 5 events pushed from another thread, then the last chunk (%d, %ld bytes)",
          status, n);
    tc_response_free(&r);

    static const char next[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    status = fd >= 0 && tc_send(fd, next, sizeof next - 1) ? tc_read_response(fd, &r, false, 5) : -1;
    check(status == 200 && r.body && strcmp(r.body, "hello\n") == 0,
          "the connection goes on with keep-alive after the stream (%d)", status);
    tc_response_free(&r);
    if (fd >= 0)
        close(fd);
}

static void test_stream_http10(int port)
{
    int fd = tc_connect(port);
    static const char req[] = "GET /stream?n=3&ms=5 HTTP/1.0\r\n\r\n";
    tc_response r = {0};
    int status = fd >= 0 && tc_send(fd, req, sizeof req - 1) ? tc_read_response(fd, &r, false, 5) : -1;
    char conn[32] = "", body[256] = "", want[256];
    tc_header(&r, "Connection", conn, sizeof conn);
    size_t len = 0;
    long n;
    while (status == 200 && len + 1 < sizeof body && (n = tc_recv(fd, body + len, sizeof body - 1 - len, 5)) > 0)
        len += (size_t)n;
    body[len] = '\0';
    expected_events(3, want, sizeof want);
    check(status == 200 && strcmp(conn, "close") == 0 && strcmp(body, want) == 0,
          "HTTP/1.0 stream: raw events, ended by the close (%d, %zu bytes)", status, len);
    tc_response_free(&r);
    if (fd >= 0)
        close(fd);
}

static void test_stream_frees_worker(int port)
{
    int fd = tc_connect(port);
    static const char req[] = "GET /stream?n=40&ms=25 HTTP/1.1\r\nHost: x\r\n\r\n";
    tc_response r = {0};
    int status = fd >= 0 && tc_send(fd, req, sizeof req - 1) ? tc_read_response(fd, &r, false, 5) : -1;
    double took = hello_seconds(port);
    check(status == 200 && took < QUICK,
          "a 1 s stream holds no worker: GET /hello meanwhile took %.3fs (1 worker)", took);
    char body[1024], want[1024];
    long n = status == 200 ? read_chunked(fd, body, sizeof body, 10) : -1;
    expected_events(40, want, sizeof want);
    check(n >= 0 && strcmp(body, want) == 0, "and the stream still delivers all 40 events (%ld bytes)", n);
    tc_response_free(&r);
    if (fd >= 0)
        close(fd);
}

static void test_stream_client_leaves(int port)
{
    int before = stat_value(port, "stream_refused");
    int fd = tc_connect(port);
    static const char req[] = "GET /stream?n=500&ms=10 HTTP/1.1\r\nHost: x\r\n\r\n";
    tc_response r = {0};
    int status = fd >= 0 && tc_send(fd, req, sizeof req - 1) ? tc_read_response(fd, &r, false, 5) : -1;
    tc_response_free(&r);
    if (fd >= 0)
        close(fd);
    bool refused = wait_stat(port, "stream_refused", before + 1, 5);
    check(status == 200 && refused, "a client leaves mid-stream: the producer's next send fails (%d)", status);
}

static void test_flood_not_read(int port)
{
    int before = stat_value(port, "flood_refused");
    int fd = tc_connect_rcvbuf(port, 4096);
    static const char req[] = "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n";
    bool sent = fd >= 0 && tc_send(fd, req, sizeof req - 1);
    usleep(200000);
    double took = hello_seconds(port);
    bool refused = wait_stat(port, "flood_refused", before + 1, 15);
    check(sent && refused && took < QUICK,
          "a stream nobody reads: sends fail once %zu bytes wait, GET /hello meanwhile %.3fs",
          SERVER_STREAM_MAX_QUEUED, took);
    if (fd >= 0)
        close(fd);
}

static void test_big_not_read(int port)
{
    enum { CLIENTS = 3 };
    int fds[CLIENTS];
    static const char two[] = "GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = tc_connect_rcvbuf(port, 4096);
        if (fds[i] >= 0)
            tc_send(fds[i], two, sizeof two - 1);
    }
    usleep(300000);
    double took = hello_seconds(port);
    check(took < QUICK, "%d clients asking for 2 x 4 MiB and reading none: GET /hello took %.3fs (1 worker)",
          CLIENTS, took);
    for (int i = 0; i < CLIENTS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static void test_continue_and_pipelining(int port)
{
    int fd = tc_connect(port);
    static const char head[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
    char line[128] = "", blank[8] = "x";
    double deadline = tc_now() + 5;
    bool interim = fd >= 0 && tc_send(fd, head, sizeof head - 1) && read_line(fd, line, sizeof line, deadline) &&
                   read_line(fd, blank, sizeof blank, deadline);
    check(interim && strcmp(line, "HTTP/1.1 100 Continue") == 0 && blank[0] == '\0',
          "Expect: 100-continue: the interim response comes before the body is sent (%s)", line);
    tc_response r = {0};
    int status = interim && tc_send(fd, "hello", 5) ? tc_read_response(fd, &r, false, 5) : -1;
    check(status == 200 && r.body && strcmp(r.body, "5:hello\n") == 0, "then the body is answered (%d)", status);
    tc_response_free(&r);

    static const char two[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                              "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    tc_response a = {0}, b = {0};
    int sa = fd >= 0 && tc_send(fd, two, sizeof two - 1) ? tc_read_response(fd, &a, false, 5) : -1;
    int sb = sa > 0 ? tc_read_response(fd, &b, false, 5) : -1;
    check(sa == 200 && sb == 200 && a.body && strcmp(a.body, "3:abc\n") == 0 && b.body &&
              strcmp(b.body, "hello\n") == 0,
          "a body and the next request in one write: both answered in order (%d, %d)", sa, sb);
    tc_response_free(&a);
    tc_response_free(&b);
    if (fd >= 0)
        close(fd);
}

static void test_idle_timeout(int port)
{
    int fd = tc_connect(port);
    static const char req[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    tc_response r = {0};
    int status = fd >= 0 && tc_send(fd, req, sizeof req - 1) ? tc_read_response(fd, &r, false, 5) : -1;
    double t0 = tc_now();
    bool closed = status == 200 && tc_closed(fd, 5);
    double waited = tc_now() - t0;
    check(closed && waited > CORE_IDLE_TIMEOUT * 0.5 && waited < CORE_IDLE_TIMEOUT + 1.5,
          "an idle kept-alive connection is closed after the idle timeout (%.0f s): %.2fs",
          CORE_IDLE_TIMEOUT, waited);
    tc_response_free(&r);
    if (fd >= 0)
        close(fd);
}

static void test_connection_cap(int port)
{
    int fds[CORE_MAX_CONNS];
    int opened = 0;
    for (int i = 0; i < CORE_MAX_CONNS; i++)
        if ((fds[opened] = tc_connect(port)) >= 0)
            opened++;
    usleep(100000);
    int extra = tc_connect(port);
    tc_response r = {0};
    double t0 = tc_now();
    int status = extra >= 0 ? tc_read_response(extra, &r, false, 3) : -1;
    double took = tc_now() - t0;
    check(status == 503 && took < 1 && r.body && strstr(r.body, "\"error\""),
          "connection %d over a cap of %d: 503 at once (%d in %.3fs)", opened + 1, CORE_MAX_CONNS,
          status, took);
    tc_response_free(&r);
    if (extra >= 0)
        close(extra);
    for (int i = 0; i < 8 && i < opened; i++)
        close(fds[i]);
    usleep(200000);
    double hello = hello_seconds(port);
    check(hello < QUICK, "with room again, a new client is served (%.3fs)", hello);
    for (int i = 8; i < opened; i++)
        close(fds[i]);
}

static void test_stop_mid_stream(server_proc *s)
{
    int fd = tc_connect(s->port);
    static const char req[] = "GET /stream?n=1000&ms=10 HTTP/1.1\r\nHost: x\r\n\r\n";
    tc_response r = {0};
    int status = fd >= 0 && tc_send(fd, req, sizeof req - 1) ? tc_read_response(fd, &r, false, 5) : -1;
    tc_response_free(&r);
    usleep(100000);
    int exit_status;
    double t0 = tc_now();
    bool clean = proc_stop(s, 10, &exit_status);
    double took = tc_now() - t0;
    check(status == 200 && clean && took < 5,
          "SIGTERM with a stream open: exit 0 in %.2fs (status %d)", took, exit_status);
    static char body[64 << 10];
    long n = fd >= 0 ? read_chunked(fd, body, sizeof body, 2) : -1;
    check(n > 0 && tc_closed(fd, 2), "the stream ended with its last chunk, then the close (%ld bytes)", n);
    if (fd >= 0)
        close(fd);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    static core k;
    server_proc s;
    if (!proc_fork(&s, serve, &k)) {
        check(false, "the test server starts");
        proc_kill(&s);
        return 1;
    }
    printf("test server pid %d on port %d\n", (int)s.pid, s.port);

    double took = hello_seconds(s.port);
    check(took < QUICK, "GET /hello: 200 (%.3fs)", took);
    test_stream(s.port);
    test_stream_http10(s.port);
    test_stream_frees_worker(s.port);
    test_stream_client_leaves(s.port);
    test_flood_not_read(s.port);
    test_big_not_read(s.port);
    test_continue_and_pipelining(s.port);
    test_idle_timeout(s.port);
    test_connection_cap(s.port);
    test_stop_mid_stream(&s);

    return check_finish();
}
