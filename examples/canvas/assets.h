/* assets.h - the page files (index.html, style.css, app.js) compiled into the
 * binary at build time by embed.cmake; nothing is ever read from disk. */
#ifndef CANVAS_ASSETS_H
#define CANVAS_ASSETS_H

#include <stddef.h>

typedef struct asset {
    const char *path;         /* URL path, e.g. "/" or "/app.js" */
    const char *content_type; /* e.g. "text/css; charset=utf-8" */
    const unsigned char *data;
    size_t size;
} asset;

/* The table, defined in the generated assets_data.c. */
extern const asset assets_table[];
extern const size_t assets_count;

/* The asset served at exactly this URL path, or NULL. */
const asset *assets_find(const char *path);

#endif
