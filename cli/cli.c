/* cli.c - option parsing, error reporting and the progress bar shared by the
 * command-line tools. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "digitnet/clock.h"

static const char *program = "digitnet";

void cli_set_program(const char *name) { program = name; }

void cli_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

bool cli_parse_int(const char *option, const char *text, long min, long max, long *value)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        cli_error("%s: expected an integer from %ld to %ld, got '%s'", option, min, max, text);
        return false;
    }
    *value = v;
    return true;
}

bool cli_parse_float(const char *option, const char *text, double min, double max, double *value)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < min || v > max) {
        cli_error("%s: expected a number from %g to %g, got '%s'", option, min, max, text);
        return false;
    }
    *value = v;
    return true;
}

bool cli_match(const char *arg, const char *name, const char **inline_value)
{
    size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0)
        return false;
    if (arg[len] == '\0') {
        *inline_value = NULL;
        return true;
    }
    if (arg[len] == '=') {
        *inline_value = arg + len + 1;
        return true;
    }
    return false;
}

const char *cli_value(int argc, char **argv, int *i, const char *inline_value)
{
    if (inline_value)
        return inline_value;
    if (*i + 1 >= argc) {
        cli_error("%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_default_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

bool cli_make_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return true;
    char dir[PATH_MAX];
    size_t len = (size_t)(slash - path);
    if (len >= sizeof dir)
        return false;
    memcpy(dir, path, len);
    dir[len] = '\0';
    if (mkdir(dir, 0755) == 0 || errno == EEXIST)
        return true;
    cli_error("cannot create directory %s: %s", dir, strerror(errno));
    return false;
}

void cli_progress_start(cli_progress *p, bool enabled, const char *label)
{
    p->enabled = enabled;
    p->start = dn_seconds();
    p->last_draw = 0;
    p->label = label;
}

void cli_progress_update(cli_progress *p, int done, int total, double loss, double accuracy)
{
    if (!p->enabled)
        return;
    double now = dn_seconds();
    if (done < total && now - p->last_draw < 0.1)
        return;
    p->last_draw = now;
    double elapsed = now - p->start, rate = elapsed > 0 ? done / elapsed : 0;
    double eta = rate > 0 ? (total - done) / rate : 0;
    enum { WIDTH = 28 };
    char bar[WIDTH + 1];
    int filled = (int)((double)WIDTH * done / total);
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r%s [%s] %d/%d  %.0f img/s  loss %.4f  acc %.2f%%  ETA %.0fs \033[K",
            p->label, bar, done, total, rate, loss, 100 * accuracy, eta);
    fflush(stderr);
}

void cli_progress_finish(cli_progress *p)
{
    if (p->enabled) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}
