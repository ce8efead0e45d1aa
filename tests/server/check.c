/* check.c - counted, printed checks for the server tests (check.h). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "check.h"

static atomic_int passed, failed;

void check(bool ok, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    atomic_fetch_add(ok ? &passed : &failed, 1);
    flockfile(stdout);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, args);
    putchar('\n');
    fflush(stdout);
    funlockfile(stdout);
    va_end(args);
}

int check_finish(void)
{
    printf("%d passed, %d failed\n", atomic_load(&passed), atomic_load(&failed));
    return atomic_load(&failed) ? 1 : 0;
}
