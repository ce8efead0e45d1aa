/* client.h - a tiny HTTP/1.1 client over loopback sockets for the dn-canvas
 * tests: every wait is bounded, so a broken server fails a check instead of
 * hanging the test. */
#ifndef TEST_CLIENT_H
#define TEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tc_response {
    int status;      /* -1: no (complete) response */
    char head[8192]; /* status line and headers, NUL-terminated */
    char *body;      /* body_len bytes plus a NUL; owned, tc_response_free */
    size_t body_len;
} tc_response;

/* A connected socket to 127.0.0.1:port, or -1. */
int tc_connect(int port);

/* The same with a receive buffer of about rcvbuf bytes (set before the
 * connect, so the window stays small): for clients that do not read. */
int tc_connect_rcvbuf(int port, int rcvbuf);

/* recv waiting at most timeout seconds: bytes read, 0 on EOF or error, -1
 * when nothing came in time. */
long tc_recv(int fd, void *buf, size_t cap, double timeout);

/* Writes all bytes; false if the peer is gone. */
bool tc_send(int fd, const void *data, size_t len);

/* Reads one response (skipping 100 Continue); a response to HEAD has no body
 * whatever its Content-Length says. Waits at most timeout seconds in all.
 * Returns the status, or -1 when the connection closed or timed out first. */
int tc_read_response(int fd, tc_response *r, bool head, double timeout);

/* Connects, sends the request, reads one response, closes. */
int tc_exchange(int port, const void *request, size_t len, tc_response *r);

/* The value of a response header (first match, any case) in out, or NULL. */
const char *tc_header(const tc_response *r, const char *name, char *out, size_t cap);

/* True when the peer closes the connection (EOF or reset) within timeout
 * seconds, with no further bytes. */
bool tc_closed(int fd, double timeout);

void tc_response_free(tc_response *r);

/* Seconds from a monotonic clock. */
double tc_now(void);

#endif
