/* main.c - dn-canvas: parses the flags, loads the CNN and the MLP, and serves
 * the draw-a-digit page and its API until SIGINT or SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cli.h"
#include "server.h"

typedef struct canvas_options {
    const char *cnn, *mlp;
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
          "  --threads N      worker threads (default 4)\n"
          "  --timeout SEC    time to send a whole request before 408, and to keep an\n"
          "                   idle keep-alive connection (default 10)\n"
          "  --help\n"
          "\n"
          "API: GET /api/health; POST /api/predict with a PGM body, or raw 8-bit gray\n"
          "pixels and ?w=W&h=H. One access-log line per request goes to stderr.\n",
          out);
}

static bool parse_args(int argc, char **argv, canvas_options *o)
{
    *o = (canvas_options){
        .cnn = "models/cnn.safetensors",
        .mlp = "models/mlp.safetensors",
        .server = {.host = "127.0.0.1", .port = 5000, .threads = 4, .queue = 64, .timeout = 10,
                   .max_body = API_MAX_BODY},
    };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL, *value;
        long n;
        double x;
        bool ok = true;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (cli_match(arg, "--host", &v)) {
            ok = (o->server.host = cli_value(argc, argv, &i, v)) != NULL;
        } else if (cli_match(arg, "--port", &v)) {
            ok = (value = cli_value(argc, argv, &i, v)) && cli_parse_int(arg, value, 0, 65535, &n);
            if (ok)
                o->server.port = (int)n;
        } else if (cli_match(arg, "--cnn", &v)) {
            ok = (o->cnn = cli_value(argc, argv, &i, v)) != NULL;
        } else if (cli_match(arg, "--mlp", &v)) {
            ok = (o->mlp = cli_value(argc, argv, &i, v)) != NULL;
        } else if (cli_match(arg, "--threads", &v)) {
            ok = (value = cli_value(argc, argv, &i, v)) && cli_parse_int(arg, value, 1, 256, &n);
            if (ok)
                o->server.threads = (int)n;
        } else if (cli_match(arg, "--timeout", &v)) {
            ok = (value = cli_value(argc, argv, &i, v)) && cli_parse_float(arg, value, 0.05, 3600, &x);
            if (ok)
                o->server.timeout = x;
        } else {
            cli_error("unknown option '%s' (see --help)", arg);
            ok = false;
        }
        if (!ok)
            return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    /* Before any thread exists (OpenMP's included), so all inherit the mask. */
    server_block_signals();
    cli_set_program("dn-canvas");
    canvas_options o;
    if (!parse_args(argc, argv, &o))
        return 2;
    api a;
    char error[512];
    if (!api_init(&a, o.cnn, o.mlp, error, sizeof error)) {
        cli_error("%s", error);
        cli_error("train the models first (examples/canvas/run.sh does), or pass --cnn/--mlp FILE");
        return 1;
    }
    int status = server_run(&o.server, api_handle, &a);
    api_free(&a);
    return status;
}
