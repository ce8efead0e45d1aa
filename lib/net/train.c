/* train.c - mini-batch training epochs over a dataset, and evaluation with
 * accuracy and a confusion matrix. */
#include <stdlib.h>
#include <string.h>

#include "digitnet/clock.h"
#include "digitnet/idx.h"
#include "digitnet/ops.h"
#include "digitnet/train.h"
#include "internal.h"
#include "net_internal.h"

/* A seed for one purpose (shuffle, augment, dropout) of one epoch that does
 * not depend on earlier epochs; dn_rng_seed scrambles it through splitmix64. */
static uint64_t epoch_seed(uint64_t seed, int epoch, uint64_t purpose)
{
    return seed + purpose * 0x9e3779b97f4a7c15ULL + (uint64_t)epoch * 0xbf58476d1ce4e5b9ULL;
}

static dn_status check_data(const dn_net *net, const dn_dataset *data)
{
    int shape[3];
    dn_net_input_shape(net, shape);
    if (data->channels != shape[0] || data->height != shape[1] || data->width != shape[2])
        return dn_fail(DN_ERR_SHAPE, "the network takes %dx%dx%d inputs, the dataset has %dx%dx%d",
                       shape[0], shape[1], shape[2], data->channels, data->height, data->width);
    if (data->num_classes > dn_net_num_classes(net))
        return dn_fail(DN_ERR_SHAPE, "the dataset has %d classes, the network outputs %d",
                       data->num_classes, dn_net_num_classes(net));
    if (data->count < 1)
        return dn_fail(DN_ERR_ARG, "the dataset is empty");
    return DN_OK;
}

dn_status dn_train_epoch(dn_net *net, dn_optim *opt, const dn_dataset *data,
                         const dn_train_config *config, int epoch, dn_train_progress_fn progress,
                         void *user, dn_epoch_stats *stats)
{
    if (!net || !opt || !data || !config || config->batch < 1 || epoch < 0)
        return dn_fail(DN_ERR_ARG, "dn_train_epoch: need a net, an optimizer, data, batch >= 1");
    if (dn_optim_count(opt) != dn_net_param_count(net))
        return dn_fail(DN_ERR_ARG,
                       "dn_train_epoch: the optimizer is for %zu parameters, the net has %zu",
                       dn_optim_count(opt), dn_net_param_count(net));
    dn_status status = check_data(net, data);
    if (status != DN_OK)
        return status;
    const int total = config->limit > 0 && config->limit < data->count ? config->limit : data->count;
    const int batch = config->batch < total ? config->batch : total;
    const size_t sample = (size_t)data->channels * data->height * data->width;
    int *order = malloc((size_t)total * sizeof *order);
    float *images = dn_alloc((size_t)batch * sample * sizeof(float));
    uint8_t *labels = malloc((size_t)batch);
    if (!order || !images || !labels) {
        free(order);
        dn_free(images);
        free(labels);
        return dn_fail(DN_ERR_NOMEM, "cannot allocate a training batch of %d", batch);
    }
    dn_rng shuffle_rng;
    dn_rng_seed(&shuffle_rng, epoch_seed(config->seed, epoch, 1));
    const uint64_t augment_seed = epoch_seed(config->seed, epoch, 2);
    dn_net_seed_dropout(net, epoch_seed(config->seed, epoch, 3));
    for (int i = 0; i < total; i++)
        order[i] = i;
    dn_rng_shuffle(&shuffle_rng, order, total);

    double start = dn_seconds(), loss_sum = 0;
    long correct_sum = 0, labelled = 0; /* accuracy counts samples of a class */
    int done = 0, steps = 0;
    dn_net_zero_grad(net); /* then each optimizer step clears them for the next */
    const int saved_threads = dn_net_enter_threads(net);
    while (done < total && status == DN_OK) {
        int n = total - done < batch ? total - done : batch;
        /* Each sample's distortion has its own generator, seeded by its
         * position in the epoch, so the batch can be made in parallel and
         * still come out the same for any thread count. */
#pragma omp parallel for schedule(dynamic, 4) if (config->augment && n > 8)
        for (int b = 0; b < n; b++) {
            const float *src = data->images + (size_t)order[done + b] * sample;
            float *dst = images + (size_t)b * sample;
            if (config->augment) {
                dn_rng rng;
                dn_rng_seed(&rng, augment_seed + (uint64_t)(done + b));
                const int label = data->labels[order[done + b]];
                for (int c = 0; c < data->channels; c++) {
                    float *to = dst + (size_t)c * data->height * data->width;
                    const float *from = src + (size_t)c * data->height * data->width;
                    if (config->digits)
                        dn_augment_digit(to, from, data->height, data->width, config->background, label,
                                         DN_AUGMENT_BEND, &rng);
                    else
                        dn_augment_image(to, from, data->height, data->width, config->background, &rng);
                }
            } else {
                memcpy(dst, src, sample * sizeof(float));
            }
            labels[b] = data->labels[order[done + b]];
        }
        for (int b = 0; b < n; b++)
            labelled += labels[b] != DN_LABEL_NONE;
        float loss;
        int correct;
        status = dn_net_forward(net, images, n, true);
        if (status == DN_OK)
            status = dn_net_backward(net, labels, &loss, &correct);
        if (status != DN_OK) {
            status = dn_fail_context(status, "epoch %d, samples %d-%d", epoch + 1, done + 1, done + n);
            break;
        }
        float lr = config->lr_at ? config->lr_at(config->lr_user, epoch, (double)done / total)
                                 : config->lr;
        dn_optim_step_clear(opt, dn_net_params(net), dn_net_grads(net), dn_net_param_count(net), lr);
        loss_sum += (double)loss * n;
        correct_sum += correct;
        done += n;
        if (progress) {
            dn_train_progress p = {.epoch = epoch, .batch = ++steps, .batches = (total + batch - 1) / batch,
                                   .done = done, .total = total, .loss = loss_sum / done,
                                   .accuracy = labelled ? (double)correct_sum / labelled : 0.0, .batch_loss = loss};
            if (!progress(user, &p)) {
                status = dn_fail(DN_ERR_STOPPED, "training stopped by the caller in epoch %d after %d of %d samples",
                                 epoch + 1, done, total);
                break;
            }
        }
    }
    dn_net_leave_threads(saved_threads);
    /* the last step can overflow a weight that no loss has seen yet */
    size_t bad = dn_find_non_finite(dn_net_params(net), dn_net_param_count(net));
    if ((status == DN_OK || status == DN_ERR_STOPPED) && bad < dn_net_param_count(net))
        status = dn_fail(DN_ERR_NUMERIC, "training diverged in epoch %d: parameter %zu is %g", epoch + 1, bad,
                         (double)dn_net_params(net)[bad]);
    if (stats && status == DN_OK) {
        stats->loss = loss_sum / total;
        stats->accuracy = labelled ? (double)correct_sum / labelled : 0.0;
        stats->samples = total;
        stats->seconds = dn_seconds() - start;
    }
    free(order);
    dn_free(images);
    free(labels);
    return status;
}

dn_status dn_evaluate(dn_net *net, const dn_dataset *data, int limit, int batch, double *accuracy,
                      int *confusion, size_t confusion_capacity)
{
    if (!net || !data || batch < 1)
        return dn_fail(DN_ERR_ARG, "dn_evaluate: need a net, data and batch >= 1");
    const size_t classes_squared = (size_t)dn_net_num_classes(net) * (size_t)dn_net_num_classes(net);
    if (confusion && confusion_capacity < classes_squared)
        return dn_fail(DN_ERR_ARG, "dn_evaluate: the confusion matrix holds %zu counts, %d classes need %zu",
                       confusion_capacity, dn_net_num_classes(net), classes_squared);
    dn_status status = check_data(net, data);
    if (status != DN_OK)
        return status;
    const int total = limit > 0 && limit < data->count ? limit : data->count;
    const int classes = dn_net_num_classes(net);
    /* the batch is only a matter of speed: a smaller one beats a refusal */
    while (batch > 1 && dn_net_memory(net, batch) > dn_net_memory_limit(net))
        batch /= 2;
    const size_t sample = (size_t)data->channels * data->height * data->width;
    float *probs = malloc((size_t)batch * classes * sizeof *probs);
    if (!probs)
        return dn_fail(DN_ERR_NOMEM, "cannot allocate evaluation outputs");
    if (confusion)
        memset(confusion, 0, (size_t)classes * classes * sizeof *confusion);
    long correct = 0, labelled = 0;
    for (int done = 0; done < total && status == DN_OK; done += batch) {
        int n = total - done < batch ? total - done : batch;
        status = dn_net_predict(net, data->images + (size_t)done * sample, n, probs,
                                (size_t)batch * classes);
        for (int b = 0; status == DN_OK && b < n; b++) {
            const float *p = probs + (size_t)b * classes;
            int best = dn_argmax(p, classes);
            int truth = data->labels[done + b];
            if (truth >= classes) /* DN_LABEL_NONE: no class to be right about */
                continue;
            labelled++;
            correct += best == truth;
            if (confusion)
                confusion[truth * classes + best]++;
        }
    }
    free(probs);
    if (status == DN_OK && accuracy)
        *accuracy = labelled ? (double)correct / labelled : 0.0;
    return status;
}
