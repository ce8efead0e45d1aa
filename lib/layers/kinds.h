/* kinds.h - the layer kinds of lib/layers/, for the registry and for the
 * few places that must name one: the fusion plan fuses a relu, and a
 * Winograd conv takes on a 2x2 max-pool. */
#ifndef DN_LAYER_KINDS_H
#define DN_LAYER_KINDS_H

#include "layer.h"

extern const dn_layer_kind dn_conv_kind;
extern const dn_layer_kind dn_maxpool_kind;
extern const dn_layer_kind dn_linear_kind;
extern const dn_layer_kind dn_relu_kind;
extern const dn_layer_kind dn_flatten_kind;
extern const dn_layer_kind dn_dropout_kind;
extern const dn_layer_kind dn_batchnorm_kind;

/* True for a batchnorm layer. */
bool dn_is_batchnorm(const dn_layer *layer);

/* Folds batchnorm layer bn (in evaluation: running statistics) into the
 * linear operation before it: for each of its channels c, folded_weight =
 * weight * scale_c over the channel's per_channel weights and folded_bias =
 * (bias - mean_c) * scale_c + beta_c, scale_c = gamma_c / sqrt(var_c + eps).
 * bias may be NULL (0). */
void dn_batchnorm_fold(const dn_layer *bn, const float *weight, const float *bias, size_t per_channel,
                       float *folded_weight, float *folded_bias);

/* True for a max-pool layer with a 2x2 window and stride 2. */
bool dn_maxpool_is_2x2(const dn_layer *layer);

/* Reads a whole word as an integer in [low, DN_SPEC_MAX_EXTENT]. */
bool dn_spec_extent(const char *word, int low, int *value);

/* Reads "AxB" (or a single "K" as KxK when parts is 2, and "CxHxW" when
 * parts is 3), each part an extent >= 1. */
bool dn_spec_dims(const char *word, int parts, int *dims);

/* DN_OK for a layer statement without arguments, else the spec error. */
dn_status dn_spec_no_arguments(const dn_layer_kind *kind, int count);

/* The largest size the spec accepts for any extent. */
enum { DN_SPEC_MAX_EXTENT = 1 << 20 };

#endif
