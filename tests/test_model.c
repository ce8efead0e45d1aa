/* test_model.c - model files and checkpoints: round trips, a model exported
 * from PyTorch in half precision, refusal of files that do not describe a
 * usable network, and resuming training bit for bit.
 * `test_model --export DIR` instead writes models and their logits for
 * tests/torch/check_interop.py to load in PyTorch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "digitnet.h"
#include "fixture.h"
#include "test_util.h"

static char dir[] = "/tmp/dn-test-model-XXXXXX";

static void path_in_dir(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/%s", dir, name);
}

static void test_round_trip(void)
{
    dn_net *net, *loaded;
    CHECK_OK(dn_net_new(&net, "cnn-dropout", 3));
    dn_model_info info = dn_model_info_default();
    info.epochs = 4;
    info.seed = 3;
    info.test_accuracy = 0.9931f;
    info.train_images = 60000;
    char path[256];
    path_in_dir(path, sizeof path, "cnn.safetensors");
    CHECK_OK(dn_model_save(net, &info, path));
    dn_model_info got;
    CHECK_OK(dn_model_load(&loaded, &got, path));
    if (loaded) {
        CHECK(strcmp(dn_net_spec(net), dn_net_spec(loaded)) == 0, "arch survives: %s",
              dn_net_spec(loaded));
        CHECK(memcmp(dn_net_params(net), dn_net_params(loaded), dn_net_param_count(net) * 4) == 0,
              "parameters survive bit for bit");
        CHECK(got.epochs == 4 && got.seed == 3 && fabsf(got.test_accuracy - 0.9931f) < 1e-6f &&
              got.train_images == 60000 && got.input_mean == info.input_mean &&
              got.input_std == info.input_std, "training facts survive");
        dn_net_free(loaded);
    }
    /* the names and shapes PyTorch uses */
    dn_safetensors st;
    CHECK_OK(dn_safetensors_read(&st, path));
    const dn_st_tensor *w = dn_safetensors_find(&st, "fc1.weight");
    CHECK(w && w->ndim == 2 && w->shape[0] == 128 && w->shape[1] == 9216, "fc1.weight [128,9216]");
    w = dn_safetensors_find(&st, "conv2.weight");
    CHECK(w && w->ndim == 4 && w->shape[0] == 64 && w->shape[1] == 32 && w->shape[3] == 3,
          "conv2.weight [64,32,3,3]");
    CHECK(st.count == 8, "8 tensors, no extras: %d", st.count);
    dn_safetensors_free(&st);
    dn_net_free(net);
}

static void test_pytorch_export(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/torch_mlp_f16.safetensors", DN_TEST_FIXTURES);
    dn_net *net;
    dn_model_info info;
    CHECK_OK(dn_model_load(&net, &info, path));
    if (!net)
        return;
    CHECK(strcmp(dn_net_spec(net), dn_net_preset("mlp")) == 0, "recognised as the mlp preset: %s",
          dn_net_spec(net));
    CHECK(info.input_mean == 0.1307f && info.input_std == 0.3081f && info.epochs == -1,
          "default normalisation, no training facts");
    dn_fixture fx;
    if (dn_fixture_load(&fx, "torch_mlp_f16.txt")) {
        const dn_fixture_tensor *x = dn_fixture_get(&fx, "input"), *want = dn_fixture_get(&fx, "logits");
        if (x && want) {
            CHECK_OK(dn_net_forward(net, x->data, x->shape[0], false));
            double err = dn_test_max_abs_diff(dn_net_logits(net), want->data, want->size);
            CHECK(err <= 1e-4, "logits of the PyTorch export: max abs error %g", err);
        }
        dn_fixture_free(&fx);
    }
    dn_net_free(net);
}

/* Writes st to name in the temp dir and expects dn_model_load to refuse it. */
static void expect_refused(dn_safetensors *st, const char *what, const char *message_part)
{
    char path[256];
    path_in_dir(path, sizeof path, "bad.safetensors");
    CHECK_OK(dn_safetensors_write(st, path));
    dn_net *net = (dn_net *)&net;
    dn_status status = dn_model_load(&net, NULL, path);
    CHECK(status != DN_OK && net == NULL && strstr(dn_last_error(), message_part),
          "%s: got %s '%s'", what, dn_status_name(status), dn_last_error());
    dn_safetensors_free(st);
}

/* Fills st with net's tensors, skipping `skip` and scaling nothing. */
static void tensors_of(dn_safetensors *st, dn_net *net, const char *skip)
{
    *st = (dn_safetensors){0};
    for (int t = 0; t < dn_net_param_tensor_count(net); t++) {
        dn_net_param p;
        dn_net_get_param(net, t, &p);
        if (!skip || strcmp(skip, p.name) != 0)
            dn_safetensors_add(st, p.name, p.value.ndim, p.value.shape, p.value.data);
    }
}

static void test_refusals(void)
{
    dn_net *mlp;
    CHECK_OK(dn_net_new(&mlp, "mlp", 1));
    dn_safetensors st;

    tensors_of(&st, mlp, "fc2.bias");
    expect_refused(&st, "missing tensor, no arch", "match neither");

    tensors_of(&st, mlp, NULL);
    dn_safetensors_add(&st, "fc4.weight", 1, (int[]){3}, (float[]){1, 2, 3});
    expect_refused(&st, "extra tensor, no arch", "match neither");

    tensors_of(&st, mlp, NULL);
    dn_safetensors_set_meta(&st, "arch", "mlp");
    dn_safetensors_add(&st, "fc4.weight", 1, (int[]){3}, (float[]){1, 2, 3});
    expect_refused(&st, "extra tensor", "unexpected tensor fc4.weight");

    tensors_of(&st, mlp, "fc1.weight");
    dn_safetensors_set_meta(&st, "arch", "mlp");
    expect_refused(&st, "missing tensor", "fc1.weight is missing");

    tensors_of(&st, mlp, "fc3.bias");
    dn_safetensors_set_meta(&st, "arch", "mlp");
    dn_safetensors_add(&st, "fc3.bias", 1, (int[]){9}, (float[9]){0});
    expect_refused(&st, "wrong shape", "fc3.bias has the wrong shape");

    tensors_of(&st, mlp, NULL);
    dn_safetensors_set_meta(&st, "arch", "input 1x28x28; flatten; linear 10; bogus");
    expect_refused(&st, "bad arch", "unknown layer 'bogus'");

    tensors_of(&st, mlp, NULL);
    dn_safetensors_set_meta(&st, "arch", "input 1x28x28; flatten; linear 16384; linear 4096; linear 10");
    expect_refused(&st, "arch far larger than the file", "its tensors hold 136074");

    tensors_of(&st, mlp, NULL);
    dn_safetensors_set_meta(&st, "input_std", "0");
    expect_refused(&st, "zero std", "normalisation");

    tensors_of(&st, mlp, NULL);
    dn_safetensors_set_meta(&st, "input_mean", "lots");
    expect_refused(&st, "non-numeric mean", "input_mean is not a number");

    tensors_of(&st, mlp, "fc2.bias");
    float bias[256] = {0};
    bias[17] = NAN;
    dn_safetensors_add(&st, "fc2.bias", 1, (int[]){256}, bias);
    expect_refused(&st, "NaN weight", "non-finite");

    char path[256];
    path_in_dir(path, sizeof path, "missing.safetensors");
    dn_net *net;
    CHECK(dn_model_load(&net, NULL, path) == DN_ERR_IO && strstr(dn_last_error(), "missing.safetensors"),
          "a missing file is an I/O error naming it: %s", dn_last_error());
    dn_net_free(mlp);
}

/* A small synthetic dataset: 8x8 images whose label is the quadrant holding
 * the brightest pixel. */
static void make_dataset(dn_dataset *ds, int count)
{
    *ds = (dn_dataset){.count = count, .channels = 1, .height = 8, .width = 8, .num_classes = 10};
    ds->images = malloc((size_t)count * 64 * sizeof(float));
    ds->labels = malloc((size_t)count);
    dn_rng rng;
    dn_rng_seed(&rng, 77);
    for (int i = 0; i < count; i++) {
        float *img = ds->images + (size_t)i * 64;
        dn_test_fill_uniform(&rng, img, 64, 0, 0.5f);
        int at = (int)dn_rng_below(&rng, 64);
        img[at] = 1.0f;
        ds->labels[i] = (uint8_t)((at / 8 >= 4) * 2 + (at % 8 >= 4));
    }
}

static const char *small_spec = "input 1x8x8; conv 4 3; relu; maxpool 2; dropout 0.2; flatten; linear 10";

static void run_epochs(dn_net *net, dn_optim *opt, const dn_dataset *ds, int from, int to)
{
    for (int epoch = from; epoch < to; epoch++) {
        dn_train_config config = {.batch = 16, .lr = dn_lr_step_decay(0.01f, 0.5f, 1, epoch),
                                  .augment = true, .digits = true, .seed = 9};
        CHECK_OK(dn_train_epoch(net, opt, ds, &config, epoch, NULL, NULL, NULL));
    }
}

/* dn_train_epoch refuses an optimizer made for another parameter count,
 * and leaves the gradients zero when it returns. */
#ifdef _OPENMP
static bool record_threads(void *user, const dn_train_progress *p)
{
    (void)p;
    *(int *)user = omp_get_max_threads();
    return true;
}
#endif

/* What the progress callback saw, and when it says stop. */
typedef struct stop_after {
    int stop_at; /* the step after which to return false; 0: never */
    int calls, last_batch, batches, last_done, total, epoch;
    bool ordered, finite;
} stop_after;

static bool record_progress(void *user, const dn_train_progress *p)
{
    stop_after *s = user;
    s->calls++;
    s->ordered = s->ordered && p->batch == s->last_batch + 1 && p->done > s->last_done;
    s->finite = s->finite && p->loss > 0 && p->batch_loss > 0 && p->accuracy >= 0 && p->accuracy <= 1;
    s->last_batch = p->batch;
    s->last_done = p->done;
    s->batches = p->batches;
    s->total = p->total;
    s->epoch = p->epoch;
    return s->stop_at == 0 || p->batch < s->stop_at;
}

/* The progress callback sees every step in order with its epoch and the
 * running loss, and returning false stops the epoch after that step with
 * DN_ERR_STOPPED: the steps done are kept (the weights moved, are finite,
 * the gradients are zero) and the net trains on afterwards. */
static void test_train_stop(void)
{
    dn_dataset ds;
    make_dataset(&ds, 40);
    dn_net *net;
    dn_optim *opt;
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    CHECK_OK(dn_net_new(&net, small_spec, 9));
    CHECK_OK(dn_optim_new(&opt, &config, dn_net_param_count(net)));
    size_t count = dn_net_param_count(net);
    float *before = malloc(count * sizeof *before);
    memcpy(before, dn_net_params(net), count * sizeof *before);
    dn_train_config train = {.batch = 8, .lr = 0.01f, .seed = 9};

    stop_after all = {.ordered = true, .finite = true};
    CHECK_OK(dn_train_epoch(net, opt, &ds, &train, 3, record_progress, &all, NULL));
    CHECK(all.calls == 5 && all.last_batch == 5 && all.batches == 5 && all.last_done == 40 && all.total == 40,
          "a whole epoch of 40 at batch 8: 5 calls (%d), last step 5 of %d, 40 of %d samples done", all.calls,
          all.batches, all.total);
    CHECK(all.ordered && all.finite && all.epoch == 3, "steps in order, losses positive, epoch 3 (%d)", all.epoch);

    memcpy(before, dn_net_params(net), count * sizeof *before);
    stop_after two = {.stop_at = 2, .ordered = true, .finite = true};
    dn_epoch_stats stats = {.samples = -7};
    dn_status status = dn_train_epoch(net, opt, &ds, &train, 4, record_progress, &two, &stats);
    CHECK(status == DN_ERR_STOPPED && strstr(dn_last_error(), "stopped"), "false stops with DN_ERR_STOPPED: %s",
          dn_last_error());
    CHECK(two.calls == 2 && two.last_done == 16, "after the second step (%d calls, %d samples)", two.calls,
          two.last_done);
    CHECK(stats.samples == -7, "stats are not written for a stopped epoch");
    CHECK(dn_optim_steps(opt) == 7, "the optimizer took 5 + 2 steps (%ld)", dn_optim_steps(opt));
    const float *params = dn_net_params(net), *grads = dn_net_grads(net);
    size_t moved = 0, bad = 0, nonzero = 0;
    for (size_t i = 0; i < count; i++) {
        moved += params[i] != before[i];
        bad += !isfinite(params[i]);
        nonzero += grads[i] != 0.0f;
    }
    CHECK(moved > count / 2 && bad == 0 && nonzero == 0,
          "the two steps are kept: %zu of %zu weights moved, %zu not finite, %zu gradients not zero", moved, count,
          bad, nonzero);
    CHECK_OK(dn_train_epoch(net, opt, &ds, &train, 5, NULL, NULL, NULL));
    free(before);
    dn_optim_free(opt);
    dn_net_free(net);
    free(ds.images);
    free(ds.labels);
}

static void test_train_contract(void)
{
    dn_dataset ds;
    make_dataset(&ds, 40);
    dn_net *net;
    dn_optim *opt, *wrong;
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    CHECK_OK(dn_net_new(&net, small_spec, 9));
    CHECK_OK(dn_optim_new(&opt, &config, dn_net_param_count(net)));
    CHECK_OK(dn_optim_new(&wrong, &config, dn_net_param_count(net) - 3));
    dn_train_config train = {.batch = 16, .lr = 0.01f, .seed = 9};
    CHECK(dn_train_epoch(net, wrong, &ds, &train, 0, NULL, NULL, NULL) == DN_ERR_ARG,
          "an optimizer for 3 parameters fewer is refused");
    CHECK_OK(dn_train_epoch(net, opt, &ds, &train, 0, NULL, NULL, NULL));
    const float *grads = dn_net_grads(net);
    size_t nonzero = 0;
    for (size_t i = 0; i < dn_net_param_count(net); i++)
        nonzero += grads[i] != 0.0f;
    CHECK(nonzero == 0, "gradients zero after an epoch (%zu are not)", nonzero);
#ifdef _OPENMP
    /* The net's thread count governs the whole epoch (augmentation and the
     * optimizer included) and is the caller's again afterwards. */
    omp_set_num_threads(2);
    dn_net_set_threads(net, 1);
    int seen = -1;
    train.augment = true;
    CHECK_OK(dn_train_epoch(net, opt, &ds, &train, 1, record_threads, &seen, NULL));
    CHECK(seen == 1, "inside the epoch OpenMP runs the net's 1 thread, not %d", seen);
    CHECK(omp_get_max_threads() == 2, "and the caller's 2 afterwards");
#endif
    dn_optim_free(opt);
    dn_optim_free(wrong);
    dn_net_free(net);
    free(ds.images);
    free(ds.labels);
}

static void test_resume(void)
{
    dn_dataset ds;
    make_dataset(&ds, 200);
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    config.weight_decay = 1e-4f;

    dn_net *straight;
    dn_optim *opt;
    CHECK_OK(dn_net_new(&straight, small_spec, 9));
    CHECK_OK(dn_optim_new(&opt, &config, dn_net_param_count(straight)));
    run_epochs(straight, opt, &ds, 0, 3);
    dn_optim_free(opt);

    dn_net *first;
    CHECK_OK(dn_net_new(&first, small_spec, 9));
    CHECK_OK(dn_optim_new(&opt, &config, dn_net_param_count(first)));
    run_epochs(first, opt, &ds, 0, 1);
    char path[256];
    path_in_dir(path, sizeof path, "run.ckpt.safetensors");
    dn_model_info info = dn_model_info_default();
    info.seed = 9;
    CHECK_OK(dn_checkpoint_save(first, opt, &config, 0.01f, 1, &info, path));
    dn_optim_free(opt);
    dn_net_free(first);

    dn_net *resumed;
    dn_optim_config loaded_config;
    float lr;
    int epoch;
    CHECK_OK(dn_checkpoint_load(&resumed, &opt, &loaded_config, &lr, &epoch, &info, path));
    if (resumed) {
        CHECK(epoch == 1 && lr == 0.01f && loaded_config.kind == DN_OPTIM_ADAM &&
              loaded_config.weight_decay == 1e-4f && dn_optim_steps(opt) == 13 && info.seed == 9,
              "checkpoint facts: epoch %d lr %g steps %ld", epoch, (double)lr, dn_optim_steps(opt));
        run_epochs(resumed, opt, &ds, epoch, 3);
        CHECK(memcmp(dn_net_params(straight), dn_net_params(resumed),
                     dn_net_param_count(straight) * sizeof(float)) == 0,
              "3 epochs straight == 1 epoch + checkpoint + 2 epochs, bit for bit");
        double acc;
        int confusion[100], total = 0, diagonal = 0;
        CHECK_OK(dn_evaluate(resumed, &ds, 0, 64, &acc, confusion, 100));
        CHECK(dn_evaluate(resumed, &ds, 0, 64, &acc, confusion, 99) == DN_ERR_ARG,
              "a confusion matrix too small for 10 x 10 is refused");
        for (int i = 0; i < 100; i++)
            total += confusion[i];
        for (int i = 0; i < 10; i++)
            diagonal += confusion[i * 11];
        CHECK(total == ds.count && fabs(acc - (double)diagonal / total) < 1e-12,
              "confusion matrix counts every sample, its diagonal is the accuracy");
        dn_optim_free(opt);
        dn_net_free(resumed);
    }
    /* a model file is not a checkpoint */
    path_in_dir(path, sizeof path, "plain.safetensors");
    CHECK_OK(dn_model_save(straight, NULL, path));
    CHECK(dn_checkpoint_load(&resumed, &opt, &loaded_config, &lr, &epoch, NULL, path) == DN_ERR_FORMAT,
          "a plain model is refused as a checkpoint: %s", dn_last_error());
    dn_net_free(straight);
    dn_dataset_free(&ds);
}

/* Writes cnn.safetensors, mlp.safetensors and their logits on fixed inputs. */
/* Some training steps on random data, so that a batchnorm's running
 * statistics are not their starting values. */
static void train_a_little(dn_net *net)
{
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    dn_optim *opt;
    if (dn_optim_new(&opt, &config, dn_net_param_count(net)) != DN_OK)
        return;
    static float batch[16 * 784];
    uint8_t labels[16];
    dn_rng rng;
    dn_rng_seed(&rng, 8);
    for (int step = 0; step < 4; step++) {
        dn_test_fill_uniform(&rng, batch, 16 * 784, -0.5f, 1.5f);
        for (int b = 0; b < 16; b++)
            labels[b] = (uint8_t)dn_rng_below(&rng, 10);
        dn_net_zero_grad(net);
        if (dn_net_forward(net, batch, 16, true) == DN_OK && dn_net_backward(net, labels, NULL, NULL) == DN_OK)
            dn_optim_step(opt, dn_net_params(net), dn_net_grads(net), dn_net_param_count(net), 1e-2f);
    }
    dn_optim_free(opt);
}

/* The batchnorm net of tests/torch/seed_models.py (BN_SPEC). */
static const char *const bn_spec = "input 1x28x28; conv 8 3; batchnorm; relu; conv 16 3; batchnorm; relu; maxpool 2; "
                                   "flatten; linear 32; batchnorm; relu; linear 10";

static int export_models(const char *out_dir)
{
    static const char *const kinds[] = {"cnn", "mlp", "bn"};
    float input[3 * 784];
    dn_rng rng;
    dn_rng_seed(&rng, 4);
    dn_test_fill_uniform(&rng, input, 3 * 784, -0.42f, 2.8f);
    for (int k = 0; k < 3; k++) {
        dn_net *net;
        char path[1024];
        if (dn_net_new(&net, k == 2 ? bn_spec : kinds[k], 21 + (uint64_t)k) != DN_OK)
            return 1;
        if (k == 2)
            train_a_little(net);
        snprintf(path, sizeof path, "%s/%s.safetensors", out_dir, kinds[k]);
        if (dn_model_save(net, NULL, path) != DN_OK || dn_net_forward(net, input, 3, false) != DN_OK)
            return 1;
        snprintf(path, sizeof path, "%s/%s.logits.txt", out_dir, kinds[k]);
        FILE *f = fopen(path, "w");
        if (!f)
            return 1;
        for (int i = 0; i < 30; i++)
            fprintf(f, "%.9g\n", (double)dn_net_logits(net)[i]);
        fclose(f);
        dn_net_free(net);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/input.txt", out_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    for (int i = 0; i < 3 * 784; i++)
        fprintf(f, "%.9g\n", (double)input[i]);
    fclose(f);
    return 0;
}

/* Weights that are finite but huge overflow the logits: an error, never
 * NaN probabilities. */
static void test_non_finite_outputs(void)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, "mlp", 1));
    if (!net)
        return;
    float *params = dn_net_params(net);
    for (size_t i = 0; i < dn_net_param_count(net); i++)
        params[i] = 3e37f;
    float input[784], probs[10];
    for (int i = 0; i < 784; i++)
        input[i] = 1.0f;
    CHECK(dn_net_predict(net, input, 1, probs, 10) == DN_ERR_NUMERIC, "huge weights: %s", dn_last_error());
    uint8_t label = 3;
    float loss;
    CHECK_OK(dn_net_forward(net, input, 1, true));
    CHECK(dn_net_backward(net, &label, &loss, NULL) == DN_ERR_NUMERIC, "a non-finite loss is an error: %s",
          dn_last_error());
    dn_net_free(net);
}

/* A diverged net is never saved: the last good file stays as it was. */
static void test_non_finite_not_saved(void)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, "mlp", 2));
    if (!net)
        return;
    char path[256], checkpoint[256];
    path_in_dir(path, sizeof path, "diverged.safetensors");
    path_in_dir(checkpoint, sizeof checkpoint, "diverged.ckpt.safetensors");
    CHECK_OK(dn_model_save(net, NULL, path));
    size_t before_len, after_len;
    char *before = dn_test_read_file(path, &before_len);

    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    dn_optim *opt;
    CHECK_OK(dn_optim_new(&opt, &config, dn_net_param_count(net)));
    CHECK_OK(dn_checkpoint_save(net, opt, &config, 1e-3f, 1, NULL, checkpoint));
    float *state = dn_optim_state(opt, 1, &(const char *){NULL});
    state[5] = NAN;
    CHECK(dn_checkpoint_save(net, opt, &config, 1e-3f, 2, NULL, checkpoint) == DN_ERR_NUMERIC,
          "NaN optimizer state not saved: %s", dn_last_error());
    state[5] = 0;

    dn_net_params(net)[1000] = NAN;
    CHECK(dn_model_save(net, NULL, path) == DN_ERR_NUMERIC && strstr(dn_last_error(), "fc1.weight"),
          "a NaN weight is refused, naming it: %s", dn_last_error());
    CHECK(dn_checkpoint_save(net, opt, &config, 1e-3f, 2, NULL, checkpoint) == DN_ERR_NUMERIC,
          "nor saved in a checkpoint");
    char *after = dn_test_read_file(path, &after_len);
    CHECK(before && after && before_len == after_len && memcmp(before, after, before_len) == 0,
          "the file on disk is the last good one");
    free(before);
    free(after);
    dn_optim_free(opt);
    dn_net_free(net);
}

/* Rewrites one optimizer tensor of a checkpoint with a bad value at 7. */
static void poison_checkpoint(const char *from, const char *to, const char *tensor, float value)
{
    dn_safetensors st;
    CHECK_OK(dn_safetensors_read(&st, from));
    for (int i = 0; i < st.count; i++)
        if (strcmp(st.tensors[i].name, tensor) == 0)
            st.tensors[i].data[7] = value;
    CHECK_OK(dn_safetensors_write(&st, to));
    dn_safetensors_free(&st);
}

static void test_checkpoint_state_validated(void)
{
    dn_net *net, *loaded;
    CHECK_OK(dn_net_new(&net, "input 1x4x4; flatten; linear 3", 2));
    if (!net)
        return;
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM), got;
    dn_optim *opt, *opt_loaded;
    CHECK_OK(dn_optim_new(&opt, &config, dn_net_param_count(net)));
    char good[256], bad[256];
    path_in_dir(good, sizeof good, "state.ckpt.safetensors");
    path_in_dir(bad, sizeof bad, "state-bad.ckpt.safetensors");
    CHECK_OK(dn_checkpoint_save(net, opt, &config, 1e-3f, 1, NULL, good));
    float lr;
    int epoch;
    static const struct {
        const char *tensor;
        float value;
    } cases[] = {{"optimizer.exp_avg", NAN}, {"optimizer.exp_avg", INFINITY},
                 {"optimizer.exp_avg_sq", -1e-3f}, {"optimizer.exp_avg_sq", NAN}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        poison_checkpoint(good, bad, cases[i].tensor, cases[i].value);
        dn_status status = dn_checkpoint_load(&loaded, &opt_loaded, &got, &lr, &epoch, NULL, bad);
        CHECK(status == DN_ERR_FORMAT && loaded == NULL && opt_loaded == NULL &&
                  strstr(dn_last_error(), cases[i].tensor),
              "%s[7] = %g refused: %s", cases[i].tensor, (double)cases[i].value, dn_last_error());
    }
    CHECK_OK(dn_checkpoint_load(&loaded, &opt_loaded, &got, &lr, &epoch, NULL, good));
    dn_net_free(loaded);
    dn_optim_free(opt_loaded);
    dn_optim_free(opt);
    dn_net_free(net);
}

/* A net with batchnorm keeps its running statistics through a model file
 * and a checkpoint: the loaded net predicts the same, bit for bit. */
static void test_batchnorm_round_trip(void)
{
    const char *spec = "input 1x8x8; conv 8 3; batchnorm; relu; maxpool 2; flatten; linear 16; batchnorm; relu; "
                       "linear 10";
    dn_dataset ds;
    make_dataset(&ds, 40);
    dn_net *net, *loaded = NULL, *resumed = NULL;
    CHECK_OK(dn_net_new(&net, spec, 5));
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM), got_config;
    dn_optim *opt, *got_opt = NULL;
    CHECK_OK(dn_optim_new(&opt, &config, dn_net_param_count(net)));
    dn_train_config train = {.batch = 8, .lr = 0.01f, .seed = 5};
    CHECK_OK(dn_train_epoch(net, opt, &ds, &train, 0, NULL, NULL, NULL));
    char path[256], checkpoint[256];
    path_in_dir(path, sizeof path, "bn.safetensors");
    path_in_dir(checkpoint, sizeof checkpoint, "bn.ckpt.safetensors");
    CHECK_OK(dn_training_save(net, opt, &config, 0.01f, 1, NULL, path, checkpoint));
    float want[2 * 10], got[2 * 10];
    CHECK_OK(dn_net_predict(net, ds.images, 2, want, 20));
    CHECK_OK(dn_model_load(&loaded, NULL, path));
    float lr;
    int epoch;
    CHECK_OK(dn_checkpoint_load(&resumed, &got_opt, &got_config, &lr, &epoch, NULL, checkpoint));
    if (loaded && resumed) {
        CHECK_OK(dn_net_predict(loaded, ds.images, 2, got, 20));
        CHECK(!memcmp(want, got, sizeof want), "the model file predicts the same, running statistics included");
        CHECK_OK(dn_net_predict(resumed, ds.images, 2, got, 20));
        CHECK(!memcmp(want, got, sizeof want), "so does the checkpoint");
        dn_safetensors st;
        CHECK_OK(dn_safetensors_read(&st, path));
        const dn_st_tensor *batches = dn_safetensors_find(&st, "bn2.num_batches_tracked");
        CHECK(batches && batches->ndim == 0 && batches->data[0] == 5.0f, "bn2.num_batches_tracked: 5 batches");
        dn_safetensors_free(&st);
    }
    dn_net_free(loaded);
    dn_net_free(resumed);
    dn_optim_free(got_opt);
    dn_optim_free(opt);
    dn_net_free(net);
    free(ds.images);
    free(ds.labels);
}

/* `test_model --logits MODEL INPUTS`: the logits (evaluation mode) of a
 * model file for three 28x28 inputs read from a text file, one per line. */
static int print_logits(const char *model_path, const char *inputs_path)
{
    float input[3 * 784];
    FILE *f = fopen(inputs_path, "r");
    for (int i = 0; f && i < 3 * 784; i++)
        if (fscanf(f, "%f", &input[i]) != 1)
            return 1;
    if (f)
        fclose(f);
    dn_net *net;
    if (!f || dn_model_load(&net, NULL, model_path) != DN_OK || dn_net_forward(net, input, 3, false) != DN_OK) {
        fprintf(stderr, "%s\n", dn_last_error());
        return 1;
    }
    for (int i = 0; i < 3 * dn_net_num_classes(net); i++)
        printf("%.9g\n", (double)dn_net_logits(net)[i]);
    dn_net_free(net);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--export") == 0)
        return export_models(argv[2]);
    if (argc == 4 && strcmp(argv[1], "--logits") == 0)
        return print_logits(argv[2], argv[3]);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_pytorch_export();
    test_refusals();
    test_train_contract();
    test_train_stop();
    test_resume();
    test_non_finite_outputs();
    test_non_finite_not_saved();
    test_checkpoint_state_validated();
    test_batchnorm_round_trip();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "temp dir removed");
    return dn_test_finish();
}
