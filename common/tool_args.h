/* tool_args.h - strict option values and "<program>: message" error lines,
 * shared by the command-line tools (cli/) and the demo server (examples/). */
#ifndef DN_TOOL_ARGS_H
#define DN_TOOL_ARGS_H

#include <stdbool.h>

/* Prints "<program>: <message>\n" to stderr. */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sets the program name used in messages. */
void tool_set_program(const char *name);

/* Parses a whole decimal integer / finite float in [min, max]; on failure
 * prints what is wrong with `option` and returns false. */
bool tool_parse_int(const char *option, const char *text, long min, long max, long *value);
bool tool_parse_float(const char *option, const char *text, double min, double max, double *value);

/* The value following argv[*i] for an option that takes one, advancing *i;
 * prints an error and returns NULL when it is missing. Accepts "--opt=value"
 * too, when inline_value is set by tool_match. */
const char *tool_value(int argc, char **argv, int *i, const char *inline_value);

/* True when argv[i] is `name` or `name=...`; sets *inline_value to the text
 * after '=' or NULL. */
bool tool_match(const char *arg, const char *name, const char **inline_value);

#endif
