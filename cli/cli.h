/* cli.h - helpers shared by dn-train and dn-predict: strict option values,
 * error lines, a terminal progress bar. */
#ifndef DN_CLI_H
#define DN_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Prints "<program>: <message>\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sets the program name used in messages. */
void cli_set_program(const char *name);

/* Parses a whole decimal integer / finite float in [min, max]; on failure
 * prints what is wrong with `option` and returns false. */
bool cli_parse_int(const char *option, const char *text, long min, long max, long *value);
bool cli_parse_float(const char *option, const char *text, double min, double max, double *value);

/* The value following argv[*i] for an option that takes one, advancing *i;
 * prints an error and returns NULL when it is missing. Accepts "--opt=value"
 * too, when inline_value is set by cli_match. */
const char *cli_value(int argc, char **argv, int *i, const char *inline_value);

/* True when argv[i] is `name` or `name=...`; sets *inline_value to the text
 * after '=' or NULL. */
bool cli_match(const char *arg, const char *name, const char **inline_value);

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
