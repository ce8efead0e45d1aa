/* glyphs.c - digits in the styles people write them, and letters and symbols
 * that look like no digit, as pen paths in a 60 x 100 box (y down).
 *
 * Path language, whitespace-separated integers:
 *   M x y               pen down at (x, y): starts a stroke
 *   L x y               straight line to (x, y)
 *   Q cx cy x y         quadratic curve through control point (cx, cy)
 *   A cx cy rx ry a b   elliptical arc around (cx, cy) from angle a to b in
 *                       degrees (0 = right, 90 = down; b < a runs backwards),
 *                       joined to the stroke so far, or starting one
 *   U                   pen up: the next command starts a new stroke */
#include "glyphs.h"

static const dn_glyph digit_glyphs[] = {
    {0, "oval", "A 30 50 27 48 -90 270"},
    {0, "oval, closed with an overlap", "A 30 50 27 48 -110 290"},
    {0, "narrow, pointed at the top", "M 30 0 Q 0 10 4 56 Q 10 100 30 100 Q 56 98 56 50 Q 56 6 30 0"},
    {1, "plain", "M 32 0 L 28 100"},
    {1, "with a flag", "M 10 22 L 32 0 L 32 100"},
    {1, "with a flag and a base", "M 10 22 L 32 0 L 32 100 M 10 100 L 54 100"},
    {1, "with a short flag", "M 20 12 L 32 0 L 31 100"},
    {1, "with a flag, the stem leaning forward", "M 14 26 L 40 0 L 24 100"},
    {1, "with a flag curving up into the stem", "M 6 34 Q 26 20 32 0 L 31 100"},
    {2, "curved", "A 30 27 25 25 200 360 Q 56 52 4 100 L 58 100"},
    {2, "with a loop", "A 30 27 25 25 200 360 Q 56 52 10 92 A 16 90 7 7 170 460 L 58 100"},
    {2, "angular", "M 4 14 Q 30 -8 54 14 L 4 100 L 58 100"},
    {3, "round", "A 30 26 24 24 200 450 A 30 74 27 26 -90 150"},
    {3, "flat top", "M 6 0 L 54 0 L 24 40 A 30 70 26 30 -105 150"},
    {4, "closed", "M 44 100 L 44 0 L 2 66 L 60 66"},
    {4, "open at the top", "M 12 0 L 4 62 L 58 62 M 46 18 L 46 100"},
    {4, "two strokes, crossing", "M 38 0 L 4 66 L 60 66 M 46 30 L 46 100"},
    {4, "one stroke, up from the end of the bar and down the stem", "M 14 0 L 4 62 L 58 62 L 46 4 L 46 100"},
    {4, "one stroke, no stem above the bar: the bar runs on, the pen comes back to the stem",
     "M 40 0 L 2 64 L 58 64 L 44 68 L 43 100"},
    {5, "plain", "M 54 0 L 12 0 L 8 44 A 30 68 26 28 -130 150"},
    {5, "with a detached top bar", "M 12 6 L 8 44 A 30 68 26 28 -130 150 M 16 0 L 56 -2"},
    {6, "curved", "M 50 2 Q 8 24 6 70 A 30 72 24 26 180 540"},
    {6, "straight stem", "M 46 0 L 8 64 A 30 74 23 24 180 540"},
    {7, "plain", "M 4 0 L 56 0 L 22 100"},
    {7, "with a bar", "M 4 0 L 56 0 L 22 100 M 14 52 L 52 52"},
    {7, "with a hook", "M 4 16 L 6 0 L 56 0 L 22 100"},
    {7, "curved stem", "M 4 0 L 56 0 Q 30 40 26 100"},
    {8, "two loops", "A 30 26 22 24 90 450 A 30 74 27 26 -90 270"},
    {8, "one stroke", "M 50 8 Q 30 -12 12 10 Q 0 30 30 50 Q 60 70 50 88 Q 30 112 10 88 Q 0 70 30 50 Q 60 30 50 8"},
    {9, "straight tail", "A 28 27 24 26 0 360 M 52 27 L 50 100"},
    {9, "curved tail", "A 28 27 24 26 0 360 M 52 27 Q 54 84 18 100"},
    {9, "one stroke", "M 52 16 A 28 27 24 26 -30 330 L 48 100"},
};

static const dn_glyph other_glyphs[] = {
    {-1, "A", "M 0 100 L 30 0 L 60 100 M 13 60 L 47 60"},
    {-1, "C", "A 34 50 30 48 40 320"},
    {-1, "E", "M 56 0 L 4 0 L 4 100 L 56 100 M 4 50 L 44 50"},
    {-1, "F", "M 56 0 L 4 0 L 4 100 M 4 48 L 44 48"},
    {-1, "H", "M 4 0 L 4 100 M 56 0 L 56 100 M 4 50 L 56 50"},
    {-1, "K", "M 6 0 L 6 100 M 56 0 L 6 62 M 22 46 L 58 100"},
    {-1, "L", "M 6 0 L 6 100 L 56 100"},
    {-1, "M", "M 2 100 L 6 0 L 30 64 L 54 0 L 58 100"},
    {-1, "N", "M 4 100 L 4 0 L 56 100 L 56 0"},
    {-1, "P", "M 6 100 L 6 0 L 32 0 A 32 25 24 25 -90 90 L 6 50"},
    {-1, "R", "M 6 100 L 6 0 L 32 0 A 32 25 24 25 -90 90 L 6 50 M 28 50 L 58 100"},
    {-1, "T", "M 0 0 L 60 0 M 30 0 L 30 100"},
    {-1, "U", "M 4 0 L 4 70 A 30 70 26 30 180 0 L 56 0"},
    {-1, "V", "M 0 0 L 30 100 L 60 0"},
    {-1, "W", "M 0 0 L 14 100 L 30 36 L 46 100 L 60 0"},
    {-1, "X", "M 4 0 L 56 100 M 56 0 L 4 100"},
    {-1, "Y", "M 0 0 L 30 48 L 60 0 M 30 48 L 30 100"},
    {-1, "e", "M 6 64 L 56 64 A 31 68 25 32 -10 -320"},
    {-1, "f", "M 50 6 Q 30 -6 26 20 L 26 100 M 8 40 L 46 40"},
    {-1, "h", "M 8 0 L 8 100 M 8 56 Q 30 30 50 50 L 52 100"},
    {-1, "k", "M 8 0 L 8 100 M 50 40 L 8 74 M 24 62 L 52 100"},
    {-1, "m", "M 4 40 L 4 100 M 4 52 Q 16 34 30 50 L 30 100 M 30 52 Q 44 34 56 50 L 56 100"},
    {-1, "n", "M 8 40 L 8 100 M 8 54 Q 30 30 50 52 L 52 100"},
    {-1, "r", "M 10 40 L 10 100 M 10 60 Q 26 36 54 44"},
    {-1, "t", "M 28 4 L 28 86 Q 30 100 50 94 M 8 36 L 50 36"},
    {-1, "u", "M 8 40 L 8 80 Q 12 100 30 100 Q 50 98 52 70 M 52 40 L 52 100"},
    {-1, "v", "M 4 40 L 30 100 L 56 40"},
    {-1, "w", "M 0 40 L 14 100 L 30 56 L 46 100 L 60 40"},
    {-1, "x", "M 8 40 L 52 100 M 52 40 L 8 100"},
    {-1, "+", "M 30 20 L 30 80 M 0 50 L 60 50"},
    {-1, "=", "M 0 36 L 60 36 M 0 64 L 60 64"},
    {-1, "#", "M 20 0 L 14 100 M 46 0 L 40 100 M 0 32 L 60 32 M 0 68 L 60 68"},
    {-1, "*", "M 30 10 L 30 90 M 0 30 L 60 70 M 0 70 L 60 30"},
    {-1, "%", "M 56 0 L 4 100 U A 14 14 10 12 0 360 U A 46 86 10 12 0 360"},
    {-1, "&", "M 56 100 L 14 36 Q 4 14 24 4 Q 44 8 36 30 L 8 70 Q 4 100 30 98 Q 48 94 58 66"},
    {-1, "?", "M 6 20 Q 10 0 30 0 Q 56 2 52 26 Q 48 40 30 50 L 30 72 M 30 94 L 30 97"},
    {-1, "<", "M 56 10 L 4 50 L 56 90"},
    {-1, ">", "M 4 10 L 56 50 L 4 90"},
    {-1, "~", "M 0 56 Q 15 30 30 50 Q 45 70 60 44"},
    {-1, "pi", "M 0 10 L 60 10 M 18 10 L 14 100 M 42 10 L 46 100"},
    {-1, "infinity", "A 16 50 14 14 0 360 U A 44 50 14 14 180 540"},
    {-1, "!", "M 30 0 L 30 70 M 30 94 L 30 97"},
    {-1, "@", "A 32 52 12 16 0 360 M 44 40 L 44 64 Q 58 74 60 50 Q 60 2 30 4 Q 0 8 2 54 Q 6 100 54 92"},
    {-1, "$", "M 52 14 Q 30 0 12 12 Q 2 30 30 48 Q 58 66 48 86 Q 30 100 6 86 M 30 -6 L 30 106"},
    {-1, "sigma", "M 56 0 L 4 0 L 34 50 L 4 100 L 56 100"},
    {-1, "omega", "M 4 100 L 22 100 Q 2 70 8 40 Q 16 4 30 4 Q 44 4 52 40 Q 58 70 38 100 L 56 100"},
    {-1, "a", "A 30 70 22 28 -30 330 M 52 42 L 54 100"},
    {-1, "check mark", "M 0 60 L 20 100 L 60 0"},
    {-1, "cross mark", "M 0 10 L 60 90 M 56 4 L 4 96"},
    {-1, "lightning", "M 40 0 L 10 56 L 40 50 L 16 100"},
    {-1, "sun", "A 30 50 12 14 0 360 M 30 20 L 30 0 M 30 80 L 30 100 M 0 50 L 14 50 M 46 50 L 60 50 "
                "M 8 24 L 18 36 M 52 24 L 42 36 M 8 76 L 18 64 M 52 76 L 42 64"},
    {-1, "cloud", "A 14 60 12 14 100 280 A 30 42 14 16 200 340 A 48 58 12 14 260 440 L 14 74"},
    {-1, "flower", "A 30 30 8 8 0 360 U A 30 12 6 10 0 360 U A 30 48 6 10 0 360 U A 14 30 10 6 0 360 "
                   "U A 46 30 10 6 0 360 M 30 56 L 30 100"},
    {-1, "arrow", "M 0 50 L 58 50 M 36 30 L 58 50 L 36 70"},
    {-1, "house", "M 6 100 L 6 44 L 30 4 L 54 44 L 54 100 L 6 100"},
    {-1, "circle with a cross", "A 30 50 28 30 -90 270 M 30 20 L 30 80 M 2 50 L 58 50"},
    {-1, "smiley", "A 30 50 30 32 -90 270 M 20 38 L 20 40 M 40 38 L 40 40 U A 30 56 16 12 20 160"},
};

const dn_glyph *dn_digit_glyph(int digit, int style)
{
    for (size_t i = 0; i < sizeof digit_glyphs / sizeof *digit_glyphs; i++)
        if (digit_glyphs[i].digit == digit && style-- == 0)
            return &digit_glyphs[i];
    return NULL;
}

int dn_synth_style_count(int digit)
{
    int count = 0;
    for (size_t i = 0; i < sizeof digit_glyphs / sizeof *digit_glyphs; i++)
        count += digit_glyphs[i].digit == digit;
    return count;
}

const char *dn_synth_style_name(int digit, int style)
{
    const dn_glyph *g = style >= 0 ? dn_digit_glyph(digit, style) : NULL;
    return g ? g->name : NULL;
}

int dn_other_glyph_count(void) { return (int)(sizeof other_glyphs / sizeof *other_glyphs); }

const dn_glyph *dn_other_glyph(int index)
{
    return index >= 0 && index < dn_other_glyph_count() ? &other_glyphs[index] : NULL;
}
