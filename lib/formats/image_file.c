/* image_file.c - reads an image by what its bytes are, not by its name:
 * the magic bytes pick the PGM, PNG or JPEG reader. */
#include <stdio.h>
#include <string.h>

#include "digitnet/image.h"
#include "fileio.h"
#include "internal.h"

/* Largest image file read, whatever its format (as for PGM and PNG). */
#define DN_IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)

/* The formats dn_image_parse reads, for messages. */
#define DN_IMAGE_FORMATS "PNG, JPEG and PGM (P5, P2)"

static bool starts_with(const uint8_t *bytes, size_t len, const char *magic, size_t n)
{
    return len >= n && memcmp(bytes, magic, n) == 0;
}

dn_status dn_image_parse(dn_image *img, const uint8_t *bytes, size_t len, const char *name)
{
    if (!img || (!bytes && len)) {
        if (img)
            memset(img, 0, sizeof *img);
        return dn_fail(DN_ERR_ARG, "dn_image_parse: %s is NULL", img ? "bytes" : "img");
    }
    memset(img, 0, sizeof *img);
    name = name ? name : "(memory)";
    if (len >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '7')
        return dn_pgm_parse(img, bytes, len, name); /* it names the Netpbm types it does not read */
    if (starts_with(bytes, len, "\x89PNG", 4))
        return dn_png_parse(img, bytes, len, name);
    if (starts_with(bytes, len, "\xff\xd8\xff", 3))
        return dn_jpeg_parse(img, bytes, len, name);
    if (len == 0)
        return dn_fail(DN_ERR_FORMAT, "%s: empty file: not an image; digitnet reads " DN_IMAGE_FORMATS, name);
    char shown[40] = "";
    for (size_t i = 0, at = 0; i < len && i < 8; i++)
        at += (size_t)snprintf(shown + at, sizeof shown - at, "%s%02x", i ? " " : "", bytes[i]);
    return dn_fail(DN_ERR_FORMAT, "%s: not an image digitnet reads (it starts with %s); digitnet reads "
                   DN_IMAGE_FORMATS, name, shown);
}

dn_status dn_image_read(dn_image *img, const char *path)
{
    if (!img || !path) {
        if (img)
            memset(img, 0, sizeof *img);
        return dn_fail(DN_ERR_ARG, "dn_image_read: %s is NULL", img ? "path" : "img");
    }
    memset(img, 0, sizeof *img);
    uint8_t *bytes;
    size_t len;
    dn_status status = dn_read_file(path, DN_IMAGE_MAX_FILE_BYTES, "an image file", &bytes, &len);
    if (status != DN_OK)
        return status;
    status = dn_image_parse(img, bytes, len, path);
    dn_free(bytes);
    return status;
}
