/* model.c - a network's parameters and training facts in a safetensors file,
 * PyTorch-compatible names, and checkpoints that add the optimizer state. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/model.h"
#include "digitnet/safetensors.h"
#include "digitnet/version.h"
#include "internal.h"
#include "safetensors_file.h"
#include "number.h"

#define DN_OPTIMIZER_PREFIX "optimizer."

dn_model_info dn_model_info_default(void)
{
    return (dn_model_info){.input_mean = 0.1307f, .input_std = 0.3081f, .epochs = -1, .seed = -1,
                           .test_accuracy = -1.0f, .train_images = -1, .epochs_planned = -1,
                           .answer_threshold = -1.0f};
}

static dn_status set_meta_number(dn_safetensors *st, const char *key, const char *fmt, double value)
{
    char text[64];
    dn_snprintf(text, sizeof text, fmt, value);
    return dn_safetensors_set_meta(st, key, text);
}

/* DN_ERR_NUMERIC when values[0..count) holds NaN or infinity: such a file
 * could not be loaded again, so it is never written. */
static dn_status check_finite(const float *values, size_t count, const char *name, const char *path)
{
    size_t bad = dn_find_non_finite(values, count);
    if (bad == count)
        return DN_OK;
    return dn_fail(DN_ERR_NUMERIC, "%s: not saved: %s[%zu] is %g (training diverged?)", path, name, bad,
                   (double)values[bad]);
}

/* Adds every parameter tensor and the model metadata to st. */
static dn_status fill_model(dn_safetensors *st, dn_net *net, const dn_model_info *info, const char *path)
{
    dn_status status = DN_OK;
    for (int t = 0; t < dn_net_param_tensor_count(net) && status == DN_OK; t++) {
        dn_net_param p;
        status = dn_net_get_param(net, t, &p);
        if (status == DN_OK)
            status = check_finite(p.value.data, dn_shape_size(p.value.ndim, p.value.shape), p.name, path);
        if (status == DN_OK)
            status = dn_safetensors_add(st, p.name, p.value.ndim, p.value.shape, p.value.data);
    }
    if (status == DN_OK)
        status = dn_safetensors_set_meta(st, "arch", dn_net_spec(net));
    if (status == DN_OK)
        status = dn_safetensors_set_meta(st, "producer", "digitnet " DN_VERSION_STRING);
    if (status == DN_OK)
        status = set_meta_number(st, "input_mean", "%.9g", info->input_mean);
    if (status == DN_OK)
        status = set_meta_number(st, "input_std", "%.9g", info->input_std);
    if (status == DN_OK && info->epochs >= 0)
        status = set_meta_number(st, "epochs", "%.0f", info->epochs);
    if (status == DN_OK && info->seed >= 0) {
        char text[32];
        snprintf(text, sizeof text, "%" PRId64, info->seed);
        status = dn_safetensors_set_meta(st, "seed", text);
    }
    if (status == DN_OK && info->test_accuracy >= 0)
        status = set_meta_number(st, "test_accuracy", "%.6f", info->test_accuracy);
    if (status == DN_OK && info->epochs_planned >= 0)
        status = set_meta_number(st, "epochs_planned", "%.0f", info->epochs_planned);
    if (status == DN_OK && info->train_images >= 0)
        status = set_meta_number(st, "train_images", "%.0f", (double)info->train_images);
    if (status == DN_OK && info->answer_threshold >= 0 && info->answer_threshold <= 1)
        status = set_meta_number(st, "answer_threshold", "%.6f", info->answer_threshold);
    return status;
}

dn_status dn_model_save(dn_net *net, const dn_model_info *info, const char *path)
{
    if (!net || !path)
        return dn_fail(DN_ERR_ARG, "dn_model_save: net and path must not be NULL");
    dn_model_info defaults = dn_model_info_default();
    dn_safetensors st = {0};
    dn_status status = fill_model(&st, net, info ? info : &defaults, path);
    if (status == DN_OK)
        status = dn_safetensors_write(&st, path);
    dn_safetensors_free(&st);
    return status;
}

/* Parses a metadata number; missing keys keep *value. */
static dn_status meta_number(const dn_safetensors *st, const char *path, const char *key,
                             double *value)
{
    const char *text = dn_safetensors_meta(st, key);
    if (!text)
        return DN_OK;
    double v;
    if (!dn_parse_double(text, &v))
        return dn_fail(DN_ERR_FORMAT, "%s: metadata %s is not a number: '%.40s'", path, key, text);
    *value = v;
    return DN_OK;
}

static dn_status read_info(const dn_safetensors *st, const char *path, dn_model_info *info)
{
    *info = dn_model_info_default();
    double mean = info->input_mean, std = info->input_std, epochs = -1, seed = -1, acc = -1,
           images = -1, planned = -1, threshold = -1;
    dn_status status = meta_number(st, path, "input_mean", &mean);
    if (status == DN_OK)
        status = meta_number(st, path, "input_std", &std);
    if (status == DN_OK)
        status = meta_number(st, path, "epochs", &epochs);
    if (status == DN_OK)
        status = meta_number(st, path, "seed", &seed);
    if (status == DN_OK)
        status = meta_number(st, path, "test_accuracy", &acc);
    if (status == DN_OK)
        status = meta_number(st, path, "train_images", &images);
    if (status == DN_OK)
        status = meta_number(st, path, "epochs_planned", &planned);
    if (status == DN_OK)
        status = meta_number(st, path, "answer_threshold", &threshold);
    if (status != DN_OK)
        return status;
    if (!(std > 1e-6 && std < 1e6 && fabs(mean) < 1e6))
        return dn_fail(DN_ERR_FORMAT, "%s: input normalisation mean %g std %g is not usable", path,
                       mean, std);
    info->input_mean = (float)mean;
    info->input_std = (float)std;
    info->epochs = epochs >= 0 && epochs < 1e9 ? (int)epochs : -1;
    info->seed = seed >= 0 && seed < 9e18 ? (int64_t)seed : -1;
    info->test_accuracy = acc >= 0 && acc <= 1 ? (float)acc : -1.0f;
    info->train_images = images >= 0 && images < 9e18 ? (int64_t)images : -1;
    info->epochs_planned = planned >= 1 && planned < 1e9 ? (int)planned : -1;
    info->answer_threshold = threshold >= 0 && threshold <= 1 ? (float)threshold : -1.0f;
    return DN_OK;
}

/* True when st's non-optimizer tensors are exactly net's, names and shapes. */
static bool tensors_match(dn_net *net, const dn_safetensors *st)
{
    int model_tensors = 0;
    for (int i = 0; i < st->count; i++)
        if (strncmp(st->tensors[i].name, DN_OPTIMIZER_PREFIX, strlen(DN_OPTIMIZER_PREFIX)) != 0)
            model_tensors++;
    if (model_tensors != dn_net_param_tensor_count(net))
        return false;
    for (int t = 0; t < dn_net_param_tensor_count(net); t++) {
        dn_net_param p;
        dn_net_get_param(net, t, &p);
        const dn_st_tensor *found = dn_safetensors_find(st, p.name);
        if (!found || found->ndim != p.value.ndim ||
            memcmp(found->shape, p.value.shape, (size_t)p.value.ndim * sizeof(int)) != 0)
            return false;
    }
    return true;
}

/* Explains the first tensor of net that st lacks or shapes differently. */
static dn_status mismatch(dn_net *net, const dn_safetensors *st, const char *path)
{
    for (int t = 0; t < dn_net_param_tensor_count(net); t++) {
        dn_net_param p;
        dn_net_get_param(net, t, &p);
        const dn_st_tensor *found = dn_safetensors_find(st, p.name);
        if (!found)
            return dn_fail(DN_ERR_FORMAT, "%s: tensor %s is missing", path, p.name);
        if (found->ndim != p.value.ndim ||
            memcmp(found->shape, p.value.shape, (size_t)p.value.ndim * sizeof(int)) != 0)
            return dn_fail(DN_ERR_FORMAT, "%s: tensor %s has the wrong shape for '%s'", path,
                           p.name, dn_net_spec(net));
    }
    for (int i = 0; i < st->count; i++)
        if (strncmp(st->tensors[i].name, DN_OPTIMIZER_PREFIX, strlen(DN_OPTIMIZER_PREFIX)) != 0 &&
            dn_net_find_param(net, st->tensors[i].name) < 0)
            return dn_fail(DN_ERR_FORMAT, "%s: unexpected tensor %s", path, st->tensors[i].name);
    return dn_fail(DN_ERR_FORMAT, "%s: tensors do not match the architecture", path);
}

/* Builds the net st describes: its "arch" metadata, else the matching preset. */
static dn_status build_net(dn_net **out, const dn_safetensors *st, const char *path)
{
    const char *arch = dn_safetensors_meta(st, "arch");
    dn_net *net = NULL;
    if (arch) {
        /* A tiny file must not make us allocate what its arch claims: refuse
         * before building when the arch needs far more than the file holds
         * (smaller mismatches get the precise message from mismatch()). */
        size_t needed = 0, held = 0;
        dn_status status = dn_net_spec_param_count(arch, &needed);
        if (status != DN_OK)
            return dn_fail_context(status, "%s: metadata arch", path);
        for (int i = 0; i < st->count; i++)
            if (strncmp(st->tensors[i].name, DN_OPTIMIZER_PREFIX, strlen(DN_OPTIMIZER_PREFIX)) != 0)
                held += st->tensors[i].size;
        if (needed > held + ((size_t)1 << 20))
            return dn_fail(DN_ERR_FORMAT, "%s: its arch has %zu parameters, its tensors hold %zu", path,
                           needed, held);
        status = dn_net_new(&net, arch, 0);
        if (status != DN_OK)
            return dn_fail_context(status, "%s: metadata arch", path);
        if (!tensors_match(net, st)) {
            status = mismatch(net, st, path);
            dn_net_free(net);
            return status;
        }
        *out = net;
        return DN_OK;
    }
    static const char *const presets[] = {"cnn", "mlp"};
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        dn_status status = dn_net_new(&net, presets[i], 0);
        if (status != DN_OK)
            return status;
        if (tensors_match(net, st)) {
            *out = net;
            return DN_OK;
        }
        dn_net_free(net);
    }
    return dn_fail(DN_ERR_FORMAT,
                   "%s: no 'arch' metadata, and its tensors match neither the cnn nor the mlp preset",
                   path);
}

static dn_status copy_params(dn_net *net, const dn_safetensors *st, const char *path)
{
    for (int t = 0; t < dn_net_param_tensor_count(net); t++) {
        dn_net_param p;
        dn_net_get_param(net, t, &p);
        const dn_st_tensor *found = dn_safetensors_find(st, p.name);
        size_t bad = dn_find_non_finite(found->data, found->size);
        if (bad < found->size)
            return dn_fail(DN_ERR_FORMAT, "%s: tensor %s holds a non-finite value at %zu", path, p.name, bad);
        memcpy(p.value.data, found->data, found->size * sizeof(float));
    }
    return DN_OK;
}

static dn_status load_from(dn_net **out, dn_model_info *info, const dn_safetensors *st,
                           const char *path)
{
    dn_model_info parsed;
    dn_status status = read_info(st, path, &parsed);
    dn_net *net = NULL;
    if (status == DN_OK)
        status = build_net(&net, st, path);
    if (status == DN_OK)
        status = copy_params(net, st, path);
    if (status != DN_OK) {
        dn_net_free(net);
        return status;
    }
    if (info)
        *info = parsed;
    if (parsed.seed >= 0)
        dn_net_seed_dropout(net, (uint64_t)parsed.seed);
    *out = net;
    return DN_OK;
}

dn_status dn_model_load(dn_net **out, dn_model_info *info, const char *path)
{
    if (!out || !path)
        return dn_fail(DN_ERR_ARG, "dn_model_load: out and path must not be NULL");
    *out = NULL;
    dn_safetensors st;
    dn_status status = dn_safetensors_read(&st, path);
    if (status == DN_OK)
        status = load_from(out, info, &st, path);
    dn_safetensors_free(&st);
    return status;
}

/* ---- checkpoints ---- */

/* Adds the model, the optimizer state and the training position to st. */
static dn_status fill_checkpoint(dn_safetensors *st, dn_net *net, dn_optim *opt, const dn_optim_config *config,
                                 float lr, int epoch, const dn_model_info *info, const char *path)
{
    dn_model_info defaults = dn_model_info_default();
    dn_status status = fill_model(st, net, info ? info : &defaults, path);
    int count = (int)dn_net_param_count(net);
    for (int i = 0; i < dn_optim_state_count(opt) && status == DN_OK; i++) {
        const char *name;
        float *state = dn_optim_state(opt, i, &name);
        char full[64];
        snprintf(full, sizeof full, DN_OPTIMIZER_PREFIX "%s", name);
        status = check_finite(state, (size_t)count, full, path);
        if (status == DN_OK)
            status = dn_safetensors_add(st, full, 1, &count, state);
    }
    const struct {
        const char *key;
        double value;
    } numbers[] = {
        {"optimizer_steps", (double)dn_optim_steps(opt)}, {"epoch", epoch}, {"lr", lr},
        {"momentum", config->momentum}, {"weight_decay", config->weight_decay},
        {"beta1", config->beta1}, {"beta2", config->beta2}, {"eps", config->eps},
        {"nesterov", config->nesterov},
    };
    if (status == DN_OK)
        status = dn_safetensors_set_meta(st, "optimizer",
                                         config->kind == DN_OPTIM_ADAM ? "adam" : "sgd");
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0] && status == DN_OK; i++)
        status = set_meta_number(st, numbers[i].key, "%.9g", numbers[i].value);
    return status;
}

dn_status dn_checkpoint_save(dn_net *net, dn_optim *opt, const dn_optim_config *config, float lr,
                             int epoch, const dn_model_info *info, const char *path)
{
    if (!net || !opt || !config || !path)
        return dn_fail(DN_ERR_ARG, "dn_checkpoint_save: arguments must not be NULL");
    dn_safetensors st = {0};
    dn_status status = fill_checkpoint(&st, net, opt, config, lr, epoch, info, path);
    if (status == DN_OK)
        status = dn_safetensors_write(&st, path);
    dn_safetensors_free(&st);
    return status;
}

dn_status dn_training_save(dn_net *net, dn_optim *opt, const dn_optim_config *config, float lr, int epoch,
                           const dn_model_info *info, const char *model_path, const char *checkpoint_path)
{
    if (!net || !opt || !config || !model_path || !checkpoint_path)
        return dn_fail(DN_ERR_ARG, "dn_training_save: arguments must not be NULL");
    dn_model_info defaults = dn_model_info_default();
    dn_safetensors model = {0}, checkpoint = {0};
    dn_atomic_file model_file, checkpoint_file;
    dn_status status = fill_model(&model, net, info ? info : &defaults, model_path);
    if (status == DN_OK)
        status = fill_checkpoint(&checkpoint, net, opt, config, lr, epoch, info, checkpoint_path);
    if (status == DN_OK)
        status = dn_safetensors_write_unpublished(&checkpoint, checkpoint_path, &checkpoint_file);
    if (status == DN_OK) {
        status = dn_safetensors_write_unpublished(&model, model_path, &model_file);
        if (status != DN_OK)
            dn_atomic_file_abort(&checkpoint_file);
    }
    /* Both complete and on disk: now two renames, the checkpoint first, so
     * that the only state between the pairs is a checkpoint one epoch ahead
     * of its model, which the checkpoint can mend (dn-train --resume). */
    if (status == DN_OK)
        status = dn_atomic_file_publish_pair(&checkpoint_file, &model_file);
    dn_safetensors_free(&model);
    dn_safetensors_free(&checkpoint);
    return status;
}

/* Optimizer state as a step could use it: finite, and Adam's running mean
 * of squared gradients ("exp_avg_sq") never negative, since the step takes
 * its square root. */
static dn_status check_state(const float *values, size_t count, const char *name, const char *path)
{
    size_t bad = dn_find_non_finite(values, count);
    if (bad < count)
        return dn_fail(DN_ERR_FORMAT, "%s: optimizer state %s[%zu] is %g, not a finite number", path, name, bad,
                       (double)values[bad]);
    if (strcmp(name, DN_OPTIMIZER_PREFIX "exp_avg_sq") == 0)
        for (size_t k = 0; k < count; k++)
            if (values[k] < 0.0f)
                return dn_fail(DN_ERR_FORMAT, "%s: optimizer state %s[%zu] is %g; a mean of squares cannot be negative",
                               path, name, k, (double)values[k]);
    return DN_OK;
}

static dn_status read_optimizer(const dn_safetensors *st, const char *path, size_t count,
                                dn_optim **out, dn_optim_config *config, float *lr, int *epoch)
{
    const char *kind = dn_safetensors_meta(st, "optimizer");
    if (!kind || (strcmp(kind, "adam") != 0 && strcmp(kind, "sgd") != 0))
        return dn_fail(DN_ERR_FORMAT, "%s: not a checkpoint (no optimizer metadata)", path);
    *config = dn_optim_defaults(strcmp(kind, "adam") == 0 ? DN_OPTIM_ADAM : DN_OPTIM_SGD);
    double steps = -1, done = -1, base_lr = -1, momentum = 0, wd = 0, nesterov = 0;
    double beta1 = config->beta1, beta2 = config->beta2, eps = config->eps;
    const char *keys[] = {"optimizer_steps", "epoch", "lr", "momentum", "weight_decay",
                          "beta1", "beta2", "eps", "nesterov"};
    double *values[] = {&steps, &done, &base_lr, &momentum, &wd, &beta1, &beta2, &eps, &nesterov};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        dn_status status = meta_number(st, path, keys[i], values[i]);
        if (status != DN_OK)
            return status;
    }
    if (steps < 0 || steps > 1e15 || done < 0 || done > 1e9 || !(base_lr > 0))
        return dn_fail(DN_ERR_FORMAT, "%s: checkpoint lacks optimizer_steps, epoch or lr", path);
    config->momentum = (float)momentum;
    config->weight_decay = (float)wd;
    config->nesterov = nesterov != 0;
    config->beta1 = (float)beta1;
    config->beta2 = (float)beta2;
    config->eps = (float)eps;
    dn_optim *opt;
    dn_status status = dn_optim_new(&opt, config, count);
    if (status != DN_OK)
        return dn_fail_context(status, "%s", path);
    for (int i = 0; i < dn_optim_state_count(opt); i++) {
        const char *name;
        float *state = dn_optim_state(opt, i, &name);
        char full[64];
        snprintf(full, sizeof full, DN_OPTIMIZER_PREFIX "%s", name);
        const dn_st_tensor *t = dn_safetensors_find(st, full);
        status = t && t->ndim == 1 && t->size == count
                     ? check_state(t->data, count, full, path)
                     : dn_fail(DN_ERR_FORMAT, "%s: optimizer state %s is missing or has the wrong size", path, full);
        if (status != DN_OK) {
            dn_optim_free(opt);
            return status;
        }
        memcpy(state, t->data, count * sizeof(float));
    }
    dn_optim_set_steps(opt, (long)steps);
    *out = opt;
    *lr = (float)base_lr;
    *epoch = (int)done;
    return DN_OK;
}

dn_status dn_checkpoint_load(dn_net **net, dn_optim **opt, dn_optim_config *config, float *lr,
                             int *epoch, dn_model_info *info, const char *path)
{
    if (!net || !opt || !config || !lr || !epoch || !path)
        return dn_fail(DN_ERR_ARG, "dn_checkpoint_load: arguments must not be NULL");
    *net = NULL;
    *opt = NULL;
    dn_safetensors st;
    dn_status status = dn_safetensors_read(&st, path);
    if (status == DN_OK)
        status = load_from(net, info, &st, path);
    if (status == DN_OK) {
        status = read_optimizer(&st, path, dn_net_param_count(*net), opt, config, lr, epoch);
        if (status != DN_OK) {
            dn_net_free(*net);
            *net = NULL;
        }
    }
    dn_safetensors_free(&st);
    return status;
}
