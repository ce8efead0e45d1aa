/* main.c - dn-canvas: parses the flags, loads the CNN and the MLP, and serves
 * the draw-a-digit page and its API until SIGINT or SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "api.h"
#include "digitnet/answer.h"
#include "tool_args.h"
#include "server.h"

/* File descriptors besides connections: stdio, the listener, epoll, the
 * signal and wake-up descriptors, models being loaded, a refused connection. */
#define CANVAS_SPARE_FDS 32

typedef struct canvas_options {
    const char *cnn, *mlp;
    double threshold; /* top probability below which a model says "not a digit" */
    server_config server;
} canvas_options;

static void usage(FILE *out)
{
    fputs("usage: dn-canvas [options]\n"
          "Serves the draw-a-digit demo: a page where a CNN and an MLP recognise a digit\n"
          "while you draw it. The page is compiled in; only the two models are read.\n"
          "\n"
          "  --host ADDR      address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)\n"
          "  --port N         port (default 5000; 0 picks a free one, printed on stdout)\n"
          "  --cnn FILE       CNN model (default models/cnn.safetensors)\n"
          "  --mlp FILE       MLP model (default models/mlp.safetensors)\n"
          "  --threads N      worker threads running the models (default 4)\n"
          "  --threshold X    a model whose top probability is below X answers \"not a\n"
          "                   digit\" (default: each model's own, calibrated by dn-train,\n"
          "                   else 0.5; 0 never refuses)\n"
          "  --timeout SEC    time for a request's head, from the connect or the previous\n"
          "                   response, before 408; also for writing a response (default 10)\n"
          "  --idle-timeout SEC  a kept-alive connection that sends nothing this long is\n"
          "                   closed (default 10)\n"
          "  --min-body-rate N   bytes/s a body must keep up once the head is in, when that\n"
          "                   gives longer than --timeout (default 16384)\n"
          "  --max-conns N    open connections; beyond, a 503 and close (default 1024, or\n"
          "                   what the open-file limit allows)\n"
          "  --help\n"
          "\n"
          "Slow or silent clients cost no thread: one event loop does all socket work and\n"
          "the threads only run complete requests. Bodies up to 2 MiB (413 beyond), at\n"
          "most 256 MiB of request bodies in memory at once (503 beyond).\n"
          "API: GET /api/health; POST /api/predict with a PNG or PGM body, or raw 8-bit\n"
          "gray pixels and ?w=W&h=H. One access-log line per request goes to stderr.\n",
          out);
}

static bool parse_args(int argc, char **argv, canvas_options *o)
{
    *o = (canvas_options){
        .cnn = "models/cnn.safetensors",
        .mlp = "models/mlp.safetensors",
        .threshold = -1,
        .server = {.host = "127.0.0.1", .port = 5000, .threads = 4, .max_conns = 1024,
                   .timeout = 10, .idle_timeout = 10, .min_body_rate = 16384,
                   .max_body = API_MAX_BODY, .max_buffered = API_MAX_BUFFERED},
    };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL, *value;
        long n;
        double x;
        bool ok = true;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (tool_match(arg, "--host", &v)) {
            ok = (o->server.host = tool_value(argc, argv, &i, v)) != NULL;
        } else if (tool_match(arg, "--port", &v)) {
            ok = (value = tool_value(argc, argv, &i, v)) && tool_parse_int(arg, value, 0, 65535, &n);
            if (ok)
                o->server.port = (int)n;
        } else if (tool_match(arg, "--cnn", &v)) {
            ok = (o->cnn = tool_value(argc, argv, &i, v)) != NULL;
        } else if (tool_match(arg, "--mlp", &v)) {
            ok = (o->mlp = tool_value(argc, argv, &i, v)) != NULL;
        } else if (tool_match(arg, "--threshold", &v)) {
            ok = (value = tool_value(argc, argv, &i, v)) && tool_parse_float(arg, value, 0, 1, &o->threshold);
        } else if (tool_match(arg, "--threads", &v)) {
            ok = (value = tool_value(argc, argv, &i, v)) && tool_parse_int(arg, value, 1, 256, &n);
            if (ok)
                o->server.threads = (int)n;
        } else if (tool_match(arg, "--timeout", &v)) {
            ok = (value = tool_value(argc, argv, &i, v)) && tool_parse_float(arg, value, 0.05, 3600, &x);
            if (ok)
                o->server.timeout = x;
        } else if (tool_match(arg, "--idle-timeout", &v)) {
            ok = (value = tool_value(argc, argv, &i, v)) && tool_parse_float(arg, value, 0.05, 3600, &x);
            if (ok)
                o->server.idle_timeout = x;
        } else if (tool_match(arg, "--min-body-rate", &v)) {
            ok = (value = tool_value(argc, argv, &i, v)) && tool_parse_float(arg, value, 1, 1e12, &x);
            if (ok)
                o->server.min_body_rate = x;
        } else if (tool_match(arg, "--max-conns", &v)) {
            ok = (value = tool_value(argc, argv, &i, v)) && tool_parse_int(arg, value, 1, 1000000, &n);
            if (ok)
                o->server.max_conns = (int)n;
        } else {
            tool_error("unknown option '%s' (see --help)", arg);
            ok = false;
        }
        if (!ok)
            return false;
    }
    return true;
}

/* Raises the soft open-file limit to the hard one and lowers max_conns to
 * what the limit then allows; false when it allows almost nothing. */
static bool fit_open_files(server_config *server)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return true;
    if (lim.rlim_cur < lim.rlim_max) {
        struct rlimit raised = {.rlim_cur = lim.rlim_max, .rlim_max = lim.rlim_max};
        if (raised.rlim_cur == RLIM_INFINITY || raised.rlim_cur > (rlim_t)1 << 20)
            raised.rlim_cur = (rlim_t)1 << 20;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            lim = raised;
    }
    if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= (rlim_t)server->max_conns + CANVAS_SPARE_FDS)
        return true;
    if (lim.rlim_cur < 2 * CANVAS_SPARE_FDS) {
        tool_error("the open-file limit (%llu) is too low to serve; raise it with ulimit -n",
                  (unsigned long long)lim.rlim_cur);
        return false;
    }
    int fit = (int)(lim.rlim_cur - CANVAS_SPARE_FDS);
    tool_error("the open-file limit (%llu) allows %d connections, not %d",
              (unsigned long long)lim.rlim_cur, fit, server->max_conns);
    server->max_conns = fit;
    return true;
}

int main(int argc, char **argv)
{
    /* Before any thread exists (OpenMP's included), so all inherit the mask. */
    server_block_signals();
    tool_set_program("dn-canvas");
    canvas_options o;
    if (!parse_args(argc, argv, &o))
        return 2;
    if (!fit_open_files(&o.server))
        return 1;
    api a;
    char error[512];
    if (!api_init(&a, o.cnn, o.mlp, error, sizeof error)) {
        tool_error("%s", error);
        tool_error("train the models first (examples/canvas/run.sh does), or pass --cnn/--mlp FILE");
        return 1;
    }
    a.threshold = (float)o.threshold;
    int status = server_run(&o.server, api_handle, &a);
    api_free(&a);
    return status;
}
