/* stroke.c - draws pen strokes into a grayscale image: each segment of a
 * polyline is a capsule of the pen's width with an anti-aliased edge. */
#include <math.h>

#include "digitnet/synth.h"
#include "internal.h"

/* Distance from (px, py) to the segment (ax, ay)-(bx, by). */
static float segment_distance(float px, float py, float ax, float ay, float bx, float by)
{
    float dx = bx - ax, dy = by - ay;
    float length2 = dx * dx + dy * dy;
    float t = length2 > 0.0f ? ((px - ax) * dx + (py - ay) * dy) / length2 : 0.0f;
    t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
    float ex = px - (ax + t * dx), ey = py - (ay + t * dy);
    return sqrtf(ex * ex + ey * ey);
}

static int clamp_int(float v, int low, int high)
{
    if (!(v > (float)low))
        return low;
    return v < (float)high ? (int)v : high;
}

/* One capsule: coverage of each pixel centre is 1 inside radius - 0.5 and
 * falls linearly to 0 at radius + 0.5; pixels keep the larger of old and new. */
static void draw_capsule(dn_image *img, float ax, float ay, float bx, float by, float radius, float ink)
{
    float reach = radius + 1.0f;
    int x0 = clamp_int(floorf(fminf(ax, bx) - reach), 0, img->width - 1);
    int x1 = clamp_int(ceilf(fmaxf(ax, bx) + reach), 0, img->width - 1);
    int y0 = clamp_int(floorf(fminf(ay, by) - reach), 0, img->height - 1);
    int y1 = clamp_int(ceilf(fmaxf(ay, by) + reach), 0, img->height - 1);
    for (int y = y0; y <= y1; y++) {
        float *row = img->pixels + (size_t)y * (size_t)img->width;
        for (int x = x0; x <= x1; x++) {
            float d = segment_distance((float)x + 0.5f, (float)y + 0.5f, ax, ay, bx, by);
            float cover = radius + 0.5f - d;
            if (cover <= 0.0f)
                continue;
            float v = (cover > 1.0f ? 1.0f : cover) * ink;
            if (v > row[x])
                row[x] = v;
        }
    }
}

dn_status dn_draw_stroke(dn_image *img, const float *xy, int points, float pen_width, float ink)
{
    if (!img || !img->pixels || !xy || points < 1)
        return dn_fail(DN_ERR_ARG, "dn_draw_stroke: need an image and at least one point");
    if (!(pen_width > 0.0f) || !isfinite(pen_width) || !(ink >= 0.0f && ink <= 1.0f))
        return dn_fail(DN_ERR_ARG, "dn_draw_stroke: the pen width must be > 0 and the ink in [0,1]");
    for (int i = 0; i < 2 * points; i++)
        if (!isfinite(xy[i]))
            return dn_fail(DN_ERR_ARG, "dn_draw_stroke: coordinate %d is not finite", i);
    float radius = 0.5f * pen_width;
    if (points == 1)
        draw_capsule(img, xy[0], xy[1], xy[0], xy[1], radius, ink);
    for (int i = 1; i < points; i++)
        draw_capsule(img, xy[2 * i - 2], xy[2 * i - 1], xy[2 * i], xy[2 * i + 1], radius, ink);
    return DN_OK;
}
