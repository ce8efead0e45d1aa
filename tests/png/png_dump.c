/* png_dump.c - prints the gray pixels digitnet reads from image files, for
 * check_png.py to compare with PIL: one line per file, either
 * "OK W H v0 v1 ..." (row-major, %.9g) or "ERR status message". */
#include <stdio.h>

#include "digitnet/image.h"
#include "digitnet/status.h"

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        dn_image img;
        dn_status status = dn_image_read(&img, argv[i]);
        if (status != DN_OK) {
            printf("ERR %s %s\n", dn_status_name(status), dn_last_error());
            continue;
        }
        printf("OK %d %d", img.width, img.height);
        size_t n = (size_t)img.width * (size_t)img.height;
        for (size_t k = 0; k < n; k++)
            printf(" %.9g", (double)img.pixels[k]);
        putchar('\n');
        dn_image_free(&img);
    }
    return ferror(stdout) ? 1 : 0;
}
