/* cli.c - what dn-train and dn-predict share besides option parsing
 * (common/tool_args.c): thread counts, output folders, the progress bar. */
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
#include "tool_args.h"
#include "digitnet/clock.h"

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
    tool_error("cannot create directory %s: %s", dir, strerror(errno));
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
