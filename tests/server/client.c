/* client.c - a minimal blocking HTTP/1.1 client with deadlines, used by the
 * dn-canvas server tests to send well-formed and deliberately broken requests. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

double tc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int tc_connect(int port)
{
    return tc_connect_rcvbuf(port, 0);
}

int tc_connect_rcvbuf(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

bool tc_send(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* recv with a deadline: bytes read, 0 on EOF or error, -1 on timeout. */
static ssize_t recv_until(int fd, void *buf, size_t cap, double deadline)
{
    for (;;) {
        double left = deadline - tc_now();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            continue;
        ssize_t n = recv(fd, buf, cap, 0);
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? 0 : n;
    }
}

long tc_recv(int fd, void *buf, size_t cap, double timeout)
{
    return (long)recv_until(fd, buf, cap, tc_now() + timeout);
}

const char *tc_header(const tc_response *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *line = strstr(r->head, "\r\n");
    while (line && line[2]) {
        line += 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= cap)
                len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return out;
        }
        line = strstr(line, "\r\n");
    }
    return NULL;
}

int tc_read_response(int fd, tc_response *r, bool head, double timeout)
{
    *r = (tc_response){.status = -1};
    double deadline = tc_now() + timeout;
    for (;;) {
        /* The head, one byte at a time so nothing of the body is consumed. */
        size_t len = 0;
        while (len < sizeof r->head - 1) {
            ssize_t n = recv_until(fd, r->head + len, 1, deadline);
            if (n <= 0)
                return -1;
            len++;
            if (len >= 4 && memcmp(r->head + len - 4, "\r\n\r\n", 4) == 0)
                break;
        }
        r->head[len] = '\0';
        if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
            return r->status = -1;
        if (r->status != 100)
            break;
    }
    char value[64];
    size_t body_len = 0;
    if (tc_header(r, "Content-Length", value, sizeof value))
        body_len = strtoul(value, NULL, 10);
    if (head)
        body_len = 0;
    r->body = calloc(body_len + 1, 1);
    if (!r->body)
        return r->status = -1;
    while (r->body_len < body_len) {
        ssize_t n = recv_until(fd, r->body + r->body_len, body_len - r->body_len, deadline);
        if (n <= 0)
            return r->status = -1;
        r->body_len += (size_t)n;
    }
    return r->status;
}

int tc_exchange(int port, const void *request, size_t len, tc_response *r)
{
    *r = (tc_response){.status = -1};
    int fd = tc_connect(port);
    if (fd < 0)
        return -1;
    int status = -1;
    if (tc_send(fd, request, len))
        status = tc_read_response(fd, r, len >= 5 && memcmp(request, "HEAD ", 5) == 0, 20);
    close(fd);
    return status;
}

bool tc_closed(int fd, double timeout)
{
    char byte;
    double deadline = tc_now() + timeout;
    return recv_until(fd, &byte, 1, deadline) == 0;
}

void tc_response_free(tc_response *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}
