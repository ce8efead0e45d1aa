/* net_spec.h - parsing the text architecture spec into unconfigured layers
 * and printing layers back as canonical spec text. Grammar: digitnet/net.h. */
#ifndef DN_NET_SPEC_H
#define DN_NET_SPEC_H

#include "layer.h"

/* Parses spec (or a preset name) into a calloc'd array of layers with kind
 * and configuration set and parameter layers named (shapes not yet
 * inferred). The caller releases them with dn_spec_free_layers. */
dn_status dn_spec_parse(const char *spec, int input_shape[3], dn_layer **layers, int *count);

void dn_spec_free_layers(dn_layer *layers, int count);

/* Canonical text of a parsed network, malloc'd; NULL when out of memory. */
char *dn_spec_format(const int input_shape[3], const dn_layer *layers, int count);

#endif
