/* net_spec.h - parsing the text architecture spec into unconfigured layers
 * and printing layers back as canonical spec text. Grammar: digitnet/net.h. */
#ifndef DN_NET_SPEC_H
#define DN_NET_SPEC_H

#include "layer.h"

/* Parses spec (or a preset name) into a calloc'd array of layers with ops
 * and configuration set (shapes not yet inferred). The caller frees *layers
 * with free(). */
dn_status dn_spec_parse(const char *spec, int input_shape[3], dn_layer **layers, int *count);

/* Canonical text of a parsed network, malloc'd; NULL when out of memory. */
char *dn_spec_format(const int input_shape[3], const dn_layer *layers, int count);

#endif
