/* jpeg_color.c - JPEG components to one gray image: upsampling by
 * replication (any ratio of sampling factors) and colour to gray. */
#include "internal.h"
#include "jpeg_internal.h"

/* Row y of component c's samples for output row y of the full image (the
 * sample whose area holds the output pixel). */
static const uint8_t *component_row(const jpeg_component *c, const jpeg_decoder *d, int y)
{
    size_t cy = (size_t)y * (size_t)c->v / (size_t)d->vmax;
    return c->plane + cy * (size_t)c->stride_blocks * 8;
}

/* out[x] = the component's sample for each output column x. */
static void upsample_row(float *out, const jpeg_component *c, const jpeg_decoder *d, const uint8_t *row)
{
    if (c->h == d->hmax) {
        for (int x = 0; x < d->width; x++)
            out[x] = (float)row[x];
        return;
    }
    for (int x = 0; x < d->width; x++)
        out[x] = (float)row[(size_t)x * (size_t)c->h / (size_t)d->hmax];
}

dn_status dn_jpeg_to_gray(dn_image *img, const jpeg_decoder *d)
{
    dn_status status = dn_image_new(img, d->width, d->height);
    if (status != DN_OK)
        return dn_fail_context(status, "%s", d->name);
    const float scale = 1.0f / 255.0f;
    if (d->color != DN_JPEG_RGB) {
        const jpeg_component *y0 = &d->comp[0];
        for (int y = 0; y < d->height; y++) {
            float *out = img->pixels + (size_t)y * (size_t)d->width;
            upsample_row(out, y0, d, component_row(y0, d, y));
            for (int x = 0; x < d->width; x++)
                out[x] *= scale;
        }
        return DN_OK;
    }
    /* RGB: ITU-R BT.601 luma, the weights PIL's convert("L") uses, in float */
    float *g = dn_alloc((size_t)d->width * 2 * sizeof *g);
    if (!g) {
        dn_image_free(img);
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory converting RGB to gray", d->name);
    }
    float *b = g + d->width;
    for (int y = 0; y < d->height; y++) {
        float *out = img->pixels + (size_t)y * (size_t)d->width;
        upsample_row(out, &d->comp[0], d, component_row(&d->comp[0], d, y));
        upsample_row(g, &d->comp[1], d, component_row(&d->comp[1], d, y));
        upsample_row(b, &d->comp[2], d, component_row(&d->comp[2], d, y));
        for (int x = 0; x < d->width; x++) {
            float v = (0.299f * out[x] + 0.587f * g[x] + 0.114f * b[x]) * scale;
            out[x] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
    }
    dn_free(g);
    return DN_OK;
}
