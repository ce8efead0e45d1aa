/* digitnet/model.h - networks in safetensors files, and training checkpoints.
 *
 * A model file holds every parameter as an F32 tensor named the way PyTorch
 * names the seed's modules ("conv1.weight" [32,1,3,3], "fc1.bias" [128], ...,
 * OIHW convolution weights, [out,in] linear weights, C,H,W flatten order),
 * so it loads in PyTorch with safetensors.torch.load_file + load_state_dict,
 * and a state dict saved from PyTorch loads here. __metadata__ carries:
 *     arch           the canonical spec (digitnet/net.h)
 *     input_mean     input normalisation: x = (pixel/255 - mean) / std
 *     input_std
 *     epochs, seed, test_accuracy, train_images, epochs_planned
 *                    training facts, when known
 *     answer_threshold  the top probability below which the model's answer
 *                    is "not a digit" (digitnet/answer.h), when calibrated
 *     producer       "digitnet <version>"
 * A file without "arch" (one exported from PyTorch) loads as the cnn or mlp
 * preset when its tensor names and shapes match that preset's exactly; one
 * without input_mean and input_std gets MNIST's normalisation
 * (examples/run_torch_model.c shows the PyTorch side).
 *
 * A checkpoint is a model file plus the optimizer state: tensors
 * "optimizer.<state>" (flat, one per state buffer, e.g. optimizer.exp_avg)
 * and metadata "optimizer" (sgd|adam), "optimizer_steps", "epoch" (epochs
 * completed), "lr", "momentum", "weight_decay", "beta1", "beta2", "eps",
 * "nesterov". Files are written atomically (an unnamed file beside the
 * destination, fsync, rename over it): readers see the old file or the new
 * one. A new file gets mode 0666 less the umask; a replaced file keeps its
 * mode; a symbolic link at the path is followed and its target replaced.
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: saving and exporting only read the net and optimizer, but
 * take them non-const (they may be asked for writable views): run them
 * while nothing else uses that net. Loading makes new objects and may run
 * in any thread. */
#ifndef DIGITNET_MODEL_H
#define DIGITNET_MODEL_H

#include <stdint.h>

#include "digitnet/export.h"
#include "digitnet/net.h"
#include "digitnet/optim.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dn_model_info {
    float input_mean, input_std;
    int epochs;          /* -1 when unknown */
    int64_t seed;        /* -1 when unknown */
    float test_accuracy; /* in [0,1]; negative when unknown */
    int64_t train_images;/* -1 when unknown */
    int epochs_planned;  /* length of the run the learning-rate schedule was
                            planned for (checkpoints); -1 when unknown */
    float answer_threshold; /* the model's own threshold for "not a digit"
                            (digitnet/answer.h, dn_answer_calibrate_right), in [0,1];
                            negative when unknown: use DN_ANSWER_THRESHOLD */
} dn_model_info;

/* MNIST normalisation, every training fact unknown. Cannot fail. */
DN_API dn_model_info dn_model_info_default(void);

/* Saves net's parameters and info (NULL: dn_model_info_default()) to path
 * (atomically). DN_ERR_NUMERIC, writing nothing, when a parameter is NaN or
 * infinite: such a file could not be loaded again. DN_ERR_ARG for a NULL net
 * or path, DN_ERR_IO when the file cannot be written (path is then left as
 * it was), DN_ERR_NOMEM. */
DN_API dn_status dn_model_save(dn_net *net, const dn_model_info *info, const char *path);

/* Loads a model file: builds the net its metadata (or tensor names) describe,
 * fills in the parameters, and sets *info (may be NULL). Every tensor must be
 * present with the right shape and finite values; extra tensors other than
 * "optimizer.*" are an error. *net is the caller's (dn_net_free); on failure
 * it is NULL and *info unchanged. Errors: those of dn_safetensors_read (the
 * file), DN_ERR_FORMAT for metadata that are not numbers or an unusable
 * normalisation, tensors missing, extra, misshapen or not finite, and an
 * arch that is no valid spec (with dn_net_new's message), DN_ERR_LIMIT when
 * the net is over the memory limit, DN_ERR_ARG for a NULL net or path. */
DN_API dn_status dn_model_load(dn_net **net, dn_model_info *info, const char *path);

/* Saves net, the optimizer's state and how far training got (epochs
 * completed, the base learning rate), atomically. Errors as dn_model_save
 * (DN_ERR_NUMERIC also for a non-finite optimizer state). */
DN_API dn_status dn_checkpoint_save(dn_net *net, dn_optim *opt, const dn_optim_config *config,
                             float lr, int epoch, const dn_model_info *info, const char *path);

/* Saves the model file and the checkpoint of one finished epoch as a pair
 * that agrees: both are written completely and made durable under
 * temporary names first, then put in place by two renames one right after
 * the other, the checkpoint first. An interruption at any point leaves the
 * old pair or the new one, except a kill in the instant between the two
 * renames, which leaves the checkpoint one epoch ahead of the model file;
 * the checkpoint holds the whole model, so resuming from it mends that.
 * Nothing is written when a parameter or optimizer state is not finite
 * (DN_ERR_NUMERIC). Other errors as dn_model_save. */
DN_API dn_status dn_training_save(dn_net *net, dn_optim *opt, const dn_optim_config *config, float lr, int epoch,
                           const dn_model_info *info, const char *model_path, const char *checkpoint_path);

/* Loads a checkpoint: the net (as dn_model_load), a new optimizer with the
 * saved configuration and state, the base learning rate and the number of
 * epochs completed. *net and *opt are the caller's (dn_net_free,
 * dn_optim_free); on failure both are NULL. Errors of dn_model_load, and
 * DN_ERR_FORMAT for a file that is no checkpoint or whose optimizer state is
 * missing, misshapen or not finite; DN_ERR_ARG for a NULL argument. */
DN_API dn_status dn_checkpoint_load(dn_net **net, dn_optim **opt, dn_optim_config *config, float *lr,
                             int *epoch, dn_model_info *info, const char *path);

#ifdef __cplusplus
}
#endif
#endif
