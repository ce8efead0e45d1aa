/* version.c - the library's version, from the generated digitnet/version.h. */
#include "digitnet/version.h"

const char *dn_version(void) { return DN_VERSION_STRING; }
