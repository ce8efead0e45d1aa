/* test_server_slow.c - dn-canvas under clients that do not play along:
 * hundreds of connections that send one byte or nothing, 64 keep-alive
 * clients at once, and clients that never read their answers. Each time a
 * fresh, normal client must still be answered.
 * usage: test_server_slow DN_CANVAS CNN_MODEL MLP_MODEL MNIST_DIR [SLOW_CLIENTS]
 * SLOW_CLIENTS defaults to 300 (the file-descriptor limit of CI machines is
 * often 1024). Exits 77 (skipped) without MNIST or models. Uses only flags
 * every dn-canvas version has, so it can be run against an old build. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "digitnet/idx.h"
#include "proc.h"

/* What "answered" means here: generous, so a busy machine cannot make it
 * flake; the server answers in milliseconds (docs/reliability.md). */
#define ANSWER_WITHIN 2.0
#define KEEPALIVE_CLIENTS 64
#define KEEPALIVE_SECONDS 3.0
#define NON_READERS 5 /* more than the server's 4 worker threads */
#define NON_READER_REQUESTS 400


/* The first MNIST test image (a 7) as raw 28x28 gray bytes. */
static bool load_digit(const char *dir, uint8_t pixels[784])
{
    char path[4096];
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    dn_idx images = {0};
    bool ok = dn_idx_read(&images, path) == DN_OK && images.type == DN_IDX_U8 && images.ndim == 3 &&
              images.dims[0] >= 1 && images.dims[1] == 28 && images.dims[2] == 28;
    if (ok)
        memcpy(pixels, images.data, 784);
    dn_idx_free(&images);
    return ok;
}

/* A keep-alive POST /api/predict of the digit; its length. */
static size_t predict_request(const uint8_t pixels[784], char *out, size_t cap)
{
    int n = snprintf(out, cap,
                     "POST /api/predict?w=28&h=28 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/octet-stream\r\nContent-Length: 784\r\n\r\n");
    memcpy(out + n, pixels, 784);
    return (size_t)n + 784;
}

static const char health_request[] = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/* One request on a fresh connection: its status, the seconds it took. */
static int timed_exchange(int port, const void *request, size_t len, double *seconds, tc_response *r)
{
    double t0 = tc_now();
    int status = -1;
    int fd = tc_connect(port);
    if (fd >= 0 && tc_send(fd, request, len))
        status = tc_read_response(fd, r, false, ANSWER_WITHIN);
    if (fd >= 0)
        close(fd);
    *seconds = tc_now() - t0;
    return status;
}

/* GET /api/health and a prediction from a fresh client, each answered 200
 * within ANSWER_WITHIN seconds. */
static void check_normal_client(int port, const uint8_t pixels[784], const char *when)
{
    tc_response r = {0};
    double took;
    int status = timed_exchange(port, health_request, sizeof health_request - 1, &took, &r);
    check(status == 200 && r.body && strstr(r.body, "\"status\":\"ok\"") && took < ANSWER_WITHIN,
          "%s: GET /api/health %d in %.3fs", when, status, took);
    tc_response_free(&r);

    char request[1024];
    size_t len = predict_request(pixels, request, sizeof request);
    status = timed_exchange(port, request, len, &took, &r);
    check(status == 200 && r.body && strstr(r.body, "\"cnn\":{\"digit\":") && took < ANSWER_WITHIN,
          "%s: POST /api/predict %d in %.3fs", when, status, took);
    tc_response_free(&r);
}

static void test_slow_clients(int port, const uint8_t pixels[784], int count)
{
    int *fds = malloc((size_t)count * sizeof *fds);
    int opened = 0;
    for (int i = 0; fds && i < count; i++) {
        int fd = tc_connect(port);
        if (fd < 0)
            continue;
        if (i % 2 == 0)
            tc_send(fd, "G", 1); /* the start of a request line, then nothing */
        fds[opened++] = fd;
    }
    check(opened == count, "%d slow connections open (half sent 'G', half nothing)", opened);
    usleep(200000);
    char when[64];
    snprintf(when, sizeof when, "with %d slow connections open", opened);
    check_normal_client(port, pixels, when);
    for (int i = 0; i < opened; i++)
        close(fds[i]);
    free(fds);
    usleep(200000);
    check_normal_client(port, pixels, "after they closed");
}

typedef struct keepalive_job {
    int port;
    const char *predict;
    size_t predict_len;
    int ok, busy, late, dropped; /* 200s, 503s, not answered in time, closed by the server */
} keepalive_job;

/* Like one of wrk's connections: request after request on one keep-alive
 * connection until the time is up. */
static void *keepalive_client(void *arg)
{
    keepalive_job *job = arg;
    int fd = tc_connect(job->port);
    double end = tc_now() + KEEPALIVE_SECONDS;
    for (int i = 0; tc_now() < end; i++) {
        bool predict = i % 2 == 1;
        const void *req = predict ? job->predict : health_request;
        size_t len = predict ? job->predict_len : sizeof health_request - 1;
        tc_response r = {0};
        double t0 = tc_now();
        int status = fd >= 0 && tc_send(fd, req, len) ? tc_read_response(fd, &r, false, ANSWER_WITHIN) : -1;
        bool late = tc_now() - t0 >= ANSWER_WITHIN;
        tc_response_free(&r);
        job->ok += status == 200 && !late;
        job->busy += status == 503;
        job->late += late;
        job->dropped += status == -1 && !late;
        if (status != 200) { /* like wrk: count it, reconnect, go on */
            if (fd >= 0)
                close(fd);
            fd = tc_connect(job->port);
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void test_keepalive_clients(int port, const uint8_t pixels[784])
{
    static char predict[1024];
    size_t predict_len = predict_request(pixels, predict, sizeof predict);
    keepalive_job jobs[KEEPALIVE_CLIENTS];
    pthread_t threads[KEEPALIVE_CLIENTS];
    int started = 0;
    for (int i = 0; i < KEEPALIVE_CLIENTS; i++) {
        jobs[i] = (keepalive_job){.port = port, .predict = predict, .predict_len = predict_len};
        if (pthread_create(&threads[started], NULL, keepalive_client, &jobs[i]) == 0)
            started++;
    }
    int ok = 0, busy = 0, late = 0, dropped = 0, starved = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        ok += jobs[i].ok;
        busy += jobs[i].busy;
        late += jobs[i].late;
        dropped += jobs[i].dropped;
        starved += jobs[i].ok == 0;
    }
    check(started == KEEPALIVE_CLIENTS && busy == 0 && late == 0 && dropped == 0 && starved == 0,
          "%d keep-alive clients for %.0f s: %d answers, %d 503s, %d not within %.0f s, %d dropped, "
          "%d clients never answered",
          started, KEEPALIVE_SECONDS, ok, busy, late, ANSWER_WITHIN, dropped, starved);
}

static void test_non_readers(int port, const uint8_t pixels[784])
{
    static const char one[] = "GET /app.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    size_t len = (sizeof one - 1) * NON_READER_REQUESTS;
    char *many = malloc(len);
    for (int i = 0; many && i < NON_READER_REQUESTS; i++)
        memcpy(many + (size_t)i * (sizeof one - 1), one, sizeof one - 1);
    int fds[NON_READERS], sent = 0;
    for (int i = 0; i < NON_READERS; i++) {
        fds[i] = tc_connect_rcvbuf(port, 4096);
        /* As many as the socket takes without waiting: even 16 KiB of
         * requests ask for 3.7 MB of answers, more than the buffers hold. */
        sent += fds[i] >= 0 && many && send(fds[i], many, len, MSG_DONTWAIT | MSG_NOSIGNAL) > 0;
    }
    free(many);
    check(sent == NON_READERS, "%d clients pipeline GET /app.js and never read the answers", sent);
    usleep(500000);
    check_normal_client(port, pixels, "meanwhile");
    for (int i = 0; i < NON_READERS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static void raise_open_files(int want)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < (rlim_t)want && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max < (rlim_t)want ? lim.rlim_max : (rlim_t)want;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: test_server_slow DN_CANVAS CNN MLP MNIST_DIR [SLOW_CLIENTS]\n");
        return 2;
    }
    const char *exe = argv[1], *cnn = argv[2], *mlp = argv[3];
    int slow = argc == 6 ? atoi(argv[5]) : 300;
    if (slow < 1 || slow > 100000) {
        fprintf(stderr, "test_server_slow: SLOW_CLIENTS must be 1..100000\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_open_files(slow + 256);
    uint8_t pixels[784];
    struct stat st;
    if (!load_digit(argv[4], pixels) || stat(cnn, &st) != 0 || stat(mlp, &st) != 0) {
        printf("skipped: needs the MNIST test set in %s and models %s, %s\n", argv[4], cnn, mlp);
        return 77;
    }

    server_proc s;
    char *server_argv[] = {(char *)exe, "--port", "0", "--cnn", (char *)cnn, "--mlp", (char *)mlp,
                           "--threads", "4", "--timeout", "10", NULL};
    if (!proc_start(&s, server_argv)) {
        check(false, "dn-canvas starts and prints its port");
        proc_kill(&s);
        return 1;
    }
    printf("dn-canvas pid %d on port %d\n", (int)s.pid, s.port);

    check_normal_client(s.port, pixels, "at start");
    test_slow_clients(s.port, pixels, slow);
    test_keepalive_clients(s.port, pixels);
    test_non_readers(s.port, pixels);

    int status;
    bool clean = proc_stop(&s, 20, &status);
    check(clean, "SIGTERM: dn-canvas exits with status 0 (%d)", status);
    return check_finish();
}
