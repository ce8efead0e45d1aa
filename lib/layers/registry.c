/* registry.c - every layer kind the spec language knows, in one list. A new
 * kind is one file in lib/layers/ and one line here (and in kinds.h). */
#include <stdio.h>
#include <string.h>

#include "layers/kinds.h"

static const dn_layer_kind *const kinds[] = {
    &dn_conv_kind, &dn_maxpool_kind, &dn_linear_kind, &dn_relu_kind, &dn_flatten_kind, &dn_dropout_kind,
    &dn_batchnorm_kind,
};

const dn_layer_kind *dn_layer_kind_find(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}

void dn_layer_kind_names(char *text, size_t capacity)
{
    size_t used = 0;
    if (capacity)
        text[0] = '\0';
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && used < capacity; i++)
        used += (size_t)snprintf(text + used, capacity - used, "%s%s", i ? ", " : "", kinds[i]->name);
}
