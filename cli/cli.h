/* cli.h - helpers shared by dn-train and dn-predict: thread counts, output
 * folders, a terminal progress bar. Option parsing and error lines are in
 * common/tool_args.h, which the demo server shares. */
#ifndef DN_CLI_H
#define DN_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "tool_args.h"

/* Threads OpenMP would use by default (1 without OpenMP). */
int cli_default_threads(void);

/* Creates the parent directory of path if it does not exist (one level). */
bool cli_make_parent_dir(const char *path);

/* A one-line progress bar redrawn in place on a terminal. */
typedef struct cli_progress {
    bool enabled;
    double start;
    double last_draw;
    const char *label;
} cli_progress;

void cli_progress_start(cli_progress *p, bool enabled, const char *label);
void cli_progress_update(cli_progress *p, int done, int total, double loss, double accuracy);
void cli_progress_finish(cli_progress *p);

#endif
