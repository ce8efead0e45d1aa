/* preprocess_dump.c - prints the 28x28 input dn_preprocess_mnist makes of
 * image files, for check_photos.py: one line per file, either
 * "OK PATH PAPER INVERTED HAS_INK v0 ... v783" (PAPER 1 when the photo path
 * was taken) or "ERR PATH status message". --mode flat|paper forces the
 * background step (internal dn_ink_extract_as), default auto; --ink DIR
 * also writes each file's ink plane (white = ink) as DIR/N.pgm, N its
 * position among the files, for looking at; --sheet 1 also prints a line
 * "SHEET PATH SIDES" before each file's (the sides of a sheet on a desk
 * the photo path found). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "digitnet/image.h"
#include "digitnet/status.h"
#include "ink.h"

int main(int argc, char **argv)
{
    dn_ink_mode mode = DN_INK_AUTO;
    const char *ink_dir = NULL;
    bool sheet = false;
    int first = 1;
    for (; first + 1 < argc; first += 2) {
        if (strcmp(argv[first], "--mode") == 0)
            mode = strcmp(argv[first + 1], "flat") == 0    ? DN_INK_FLAT
                   : strcmp(argv[first + 1], "paper") == 0 ? DN_INK_PAPER
                                                           : DN_INK_AUTO;
        else if (strcmp(argv[first], "--ink") == 0)
            ink_dir = argv[first + 1];
        else if (strcmp(argv[first], "--sheet") == 0)
            sheet = strcmp(argv[first + 1], "1") == 0;
        else
            break;
    }
    for (int i = first; i < argc; i++) {
        dn_image img;
        dn_ink ink;
        float out[DN_MNIST_PIXELS] = {0};
        dn_preprocess_info info = {0};
        dn_status status = dn_image_read(&img, argv[i]);
        if (status == DN_OK) {
            status = dn_ink_extract_as(&ink, &img, mode, "preprocess_dump");
            if (status == DN_OK && ink_dir) {
                char path[4096];
                dn_image plane = {ink.w, ink.h, ink.p};
                snprintf(path, sizeof path, "%s/%d.pgm", ink_dir, i - first);
                status = dn_pgm_write(&plane, path);
            }
            if (status == DN_OK && ink.has_ink)
                status = dn_ink_shape(&ink, out, &info);
            dn_image_free(&img);
        }
        if (status != DN_OK) {
            printf("ERR %s %s %s\n", argv[i], dn_status_name(status), dn_last_error());
            continue;
        }
        if (sheet)
            printf("SHEET %s %d\n", argv[i], ink.sheet_sides);
        printf("OK %s %d %d %d", argv[i], ink.paper, ink.inverted, info.has_ink);
        for (int k = 0; k < DN_MNIST_PIXELS; k++)
            printf(" %.7g", (double)out[k]);
        putchar('\n');
        dn_ink_free(&ink);
    }
    return ferror(stdout) ? 1 : 0;
}
