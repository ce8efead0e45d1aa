/* digitnet/train.h - the training loop, evaluation and data augmentation.
 *
 * dn_train_epoch runs one pass over a dataset in a shuffled order drawn from
 * (seed, epoch) alone, with dropout masks and augmentation seeded the same
 * way, so epoch e of a run resumed from a checkpoint is bit-identical to
 * epoch e of an uninterrupted run, for any thread count. Conventions
 * (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: dn_train_epoch and dn_evaluate run the net (they need it,
 * and dn_train_epoch the optimizer, to themselves) and only read the
 * dataset, so two nets may train at once on one dataset. dn_augment_image
 * keeps no state; it changes only out and rng. */
#ifndef DIGITNET_TRAIN_H
#define DIGITNET_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "digitnet/export.h"
#include "digitnet/idx.h"
#include "digitnet/net.h"
#include "digitnet/optim.h"
#include "digitnet/rng.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dn_train_config {
    int batch;          /* samples per optimizer step, e.g. 64 */
    float lr;           /* learning rate of the epoch ... */
    /* ... unless lr_at is set: then it gives the rate of every step, from
     * the epoch and the fraction of it already done, e.g. for cosine annealing. */
    float (*lr_at)(void *user, int epoch, double fraction);
    void *lr_user;
    bool augment;       /* random affine distortion of each training image */
    bool digits;        /* the labels are digits (and DN_LABEL_NONE): augment with
                           dn_augment_digit and DN_AUGMENT_BEND */
    float background;   /* value of an empty pixel, (0 - mean) / std when normalised */
    uint64_t seed;      /* shuffling, dropout and augmentation */
    int limit;          /* use the first `limit` samples; 0 = all */
} dn_train_config;

typedef struct dn_epoch_stats {
    double loss;        /* mean training loss over the epoch */
    double accuracy;    /* fraction of training samples right (as seen, in train mode;
                           samples labelled DN_LABEL_NONE are not counted) */
    int samples;
    double seconds;     /* wall time of the pass */
} dn_epoch_stats;

/* Where an epoch is, after one optimizer step. */
typedef struct dn_train_progress {
    int epoch;       /* the epoch's number, from 0, as passed to dn_train_epoch */
    int batch;       /* optimizer steps done in this epoch, from 1 */
    int batches;     /* steps the whole epoch takes */
    int done, total; /* samples done in this epoch, and the epoch's size */
    double loss;     /* running mean training loss over the epoch so far */
    double accuracy; /* running fraction right of those that have a class (train mode) */
    double batch_loss; /* mean loss of this batch alone */
} dn_train_progress;

/* Called after each optimizer step, on the thread that called
 * dn_train_epoch (never from inside a parallel region), with the net's
 * parameters updated and consistent: the callback may read them (e.g. to
 * show or copy the weights) but must not run or change the net. Returns
 * true to go on, false to stop the epoch after this step: dn_train_epoch
 * then returns DN_ERR_STOPPED, with the steps done kept in the net and
 * the optimizer (usable, finite, gradients zero) and *stats not written.
 * May be NULL. */
typedef bool (*dn_train_progress_fn)(void *user, const dn_train_progress *progress);

/* One epoch (numbered from 0) of mini-batch training. opt must be made for
 * exactly the net's parameters. The gradients are zeroed first and come
 * back zero (each optimizer step clears them for the next batch).
 * DN_ERR_NUMERIC when training diverges (a non-finite loss, or a parameter
 * that is not finite at the end): the net's parameters are then unusable,
 * so keep or reload the last good ones. DN_ERR_STOPPED when progress asked
 * to stop. DN_ERR_SHAPE when the data's image shape is not the net's input
 * or it has more classes than the net outputs; DN_ERR_ARG for a NULL
 * argument, batch < 1, epoch < 0, an empty dataset or an optimizer made for
 * another number of parameters; DN_ERR_NOMEM; the errors of the net's
 * forward and backward passes (DN_ERR_LIMIT for a batch over its memory
 * limit). Not thread-safe for the same net or optimizer; separate nets
 * train in separate threads independently. */
DN_API dn_status dn_train_epoch(dn_net *net, dn_optim *opt, const dn_dataset *data,
                         const dn_train_config *config, int epoch, dn_train_progress_fn progress,
                         void *user, dn_epoch_stats *stats);

/* Accuracy of net on the first `limit` samples of data (0 = all), in
 * evaluation mode, batch at a time; samples labelled DN_LABEL_NONE are
 * skipped. confusion, if not NULL, gets
 * classes x classes counts: confusion[true * classes + predicted], and
 * confusion_capacity says how many ints it holds (DN_ERR_ARG, with nothing
 * written, when fewer than classes x classes). The batch is halved while it
 * would go over the net's memory limit. DN_ERR_SHAPE and DN_ERR_ARG as for
 * dn_train_epoch (batch < 1, an empty dataset, a NULL argument); the errors
 * of dn_net_predict (DN_ERR_NUMERIC when an output is not finite). */
DN_API dn_status dn_evaluate(dn_net *net, const dn_dataset *data, int limit, int batch, double *accuracy,
                      int *confusion, size_t confusion_capacity);

/* Random affine distortion of one h x w image: rotation up to +-12 degrees,
 * scaling 0.9-1.1, shear up to +-0.15, shift up to +-2.5 pixels, bilinear
 * sampling; pixels sampled from outside the image are `background`. out
 * and in are h x w floats each and must not overlap. Cannot fail. */
DN_API void dn_augment_image(float *out, const float *in, int h, int w, float background, dn_rng *rng);

/* The elastic bend dn_train_epoch gives digits (see dn_augment_digit). */
#define DN_AUGMENT_BEND 0.03f

/* The distortion for training on digits (dn_train_config.digits), of an
 * image labelled `label` (0..9, or DN_LABEL_NONE for a drawing that is no
 * digit):
 *  - the affine distortion of dn_augment_image, from the same first random
 *    numbers, except that a 7 is never leaned back (its top moved left,
 *    which stands its stem upright and raises its bar into the flag of a
 *    1): such a draw has its rotation and shear negated, which turns the
 *    lean forward and keeps its size;
 *  - then, when bend > 0, an elastic one (after Simard et al., 2003):
 *    random displacements at the corners of a 4 x 4 grid over the image,
 *    normal with a standard deviation of bend times the image's shorter
 *    side, blended smoothly in between, so strokes bend the way a hand
 *    wobbles. DN_AUGMENT_BEND is what dn_train_epoch uses.
 * With bend 0 and any label but 7 the result is dn_augment_image's. out
 * and in must not overlap. Cannot fail. */
DN_API void dn_augment_digit(float *out, const float *in, int h, int w, float background, int label, float bend,
                             dn_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
