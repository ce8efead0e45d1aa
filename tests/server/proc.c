/* proc.c - starts dn-canvas (or an in-process test server) as a child whose
 * port is read from its stdout, and stops it with SIGTERM within a bound. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "proc.h"

/* Reads the child's first stdout line (up to 60 s) and takes the port. */
static bool read_port(server_proc *s, int out)
{
    char line[256] = "";
    size_t len = 0;
    double deadline = tc_now() + 60;
    while (len < sizeof line - 1 && !strchr(line, '\n') && tc_now() < deadline) {
        struct pollfd p = {.fd = out, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        ssize_t n = read(out, line + len, sizeof line - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        line[len] = '\0';
    }
    close(out);
    const char *at = strstr(line, "http://127.0.0.1:");
    s->port = at ? atoi(at + strlen("http://127.0.0.1:")) : 0;
    return s->port > 0;
}

/* Runs child(arg) in a fork whose stdout is a pipe; the child must not return. */
static bool start(server_proc *s, void (*child)(void *arg), void *arg)
{
    *s = (server_proc){.pid = -1};
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0)
        return false;
    fflush(stdout);
    s->pid = fork();
    if (s->pid < 0) {
        close(out[0]);
        close(out[1]);
        return false;
    }
    if (s->pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        child(arg);
    }
    close(out[1]);
    return read_port(s, out[0]);
}

static void exec_child(void *arg)
{
    char *const *argv = arg;
    execv(argv[0], argv);
    _exit(127);
}

typedef struct serve_job {
    int (*serve)(void *arg);
    void *arg;
} serve_job;

static void serve_child(void *arg)
{
    serve_job *job = arg;
    /* exit, not _exit: LeakSanitizer checks the server at exit (stdio was
     * flushed before the fork, so nothing is written twice). */
    exit(job->serve(job->arg));
}

bool proc_start(server_proc *s, char *const argv[])
{
    return start(s, exec_child, (void *)argv);
}

bool proc_fork(server_proc *s, int (*serve)(void *arg), void *arg)
{
    serve_job job = {serve, arg};
    return start(s, serve_child, &job);
}

bool proc_stop(server_proc *s, double patience, int *exit_status)
{
    if (s->pid <= 0)
        return false;
    kill(s->pid, SIGTERM);
    int status = -1;
    double deadline = tc_now() + patience;
    pid_t done = 0;
    while ((done = waitpid(s->pid, &status, WNOHANG)) == 0 && tc_now() < deadline)
        usleep(20000);
    if (done == 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
    }
    s->pid = -1;
    if (exit_status)
        *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return done > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void proc_kill(server_proc *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = -1;
}
