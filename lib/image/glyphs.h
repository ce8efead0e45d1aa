/* glyphs.h - the pen paths of drawn digits (by style) and of letters and
 * symbols that are not digits; the path language is described in glyphs.c. */
#ifndef DN_GLYPHS_H
#define DN_GLYPHS_H

#include "digitnet/synth.h"

typedef struct dn_glyph {
    int digit;        /* 0..9, or -1 for a drawing that is not a digit */
    const char *name; /* the style ("with a flag") or what it is ("K") */
    const char *path;
} dn_glyph;

/* The style-th path of digit (styles counted by dn_synth_style_count), or NULL. */
const dn_glyph *dn_digit_glyph(int digit, int style);

/* Letters and symbols that look like no digit: how many, and one of them. */
int dn_other_glyph_count(void);
const dn_glyph *dn_other_glyph(int index);

#endif
