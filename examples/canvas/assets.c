/* assets.c - looks a URL path up in the compiled-in page table; the path is
 * only ever compared with the table, never used to open anything. */
#include <string.h>

#include "assets.h"

const asset *assets_find(const char *path)
{
    for (size_t i = 0; i < assets_count; i++)
        if (strcmp(assets_table[i].path, path) == 0)
            return &assets_table[i];
    return NULL;
}
