/* learn.c - training from the page (learn.h): the trainer thread and its
 * jobs, the state it shares with the handlers, and the event streams. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api.h"
#include "digitnet/answer.h"
#include "digitnet/clock.h"
#include "digitnet/idx.h"
#include "digitnet/optim.h"
#include "digitnet/rng.h"
#include "digitnet/synth.h"
#include "digitnet/train.h"
#include "learn.h"
#include "learn_params.h"

#define LEARN_MAX_POINTS 1000 /* points of the curves kept; then every other one goes */
#define EMIT_S 0.25           /* a progress event at most this often */
#define FILTERS_S 1.0         /* conv1's kernels in a progress event this often */
#define SNAPSHOT_S 1.0        /* the weights predictions use, refreshed this often */
#define EVAL_CHUNK 1000       /* test images evaluated between looks at cancel */
#define TRAIN_BATCH 64
#define TRAIN_LR 2e-3f        /* dn-train's recipe: Adam, cosine with 5% warm-up */
#define TRAIN_WARMUP 0.05f
#define TRAINER_NICE 10
#define SYNTH_SEED 0x5eedULL
#define SYNTH_CHUNK 1000      /* drawings made between looks at cancel */
#define ANSWER_RATE_CNN 0.98  /* dn-train's --answer-rate and rule: 98% of the test digits read right, */
#define ANSWER_RATE_MLP 0.97  /* 97% for the MLP (docs/results.md, "Not a digit") */
#define FILTER_MAX 64         /* conv1 kernels sent, 3x3 each */

static const char *const model_names[2] = {"cnn", "mlp"};

typedef enum learn_state {
    LEARN_IDLE, LEARN_RUNNING, LEARN_FINISHED, LEARN_KEPT, LEARN_DISCARDED, LEARN_CANCELLED, LEARN_FAILED,
} learn_state;
static const char *const state_names[] = {"idle", "running", "finished", "kept", "discarded", "cancelled", "failed"};

typedef struct epoch_result {
    double loss, train_accuracy, test_accuracy, seconds;
} epoch_result;

struct learn {
    api *a;
    learn_config config;
    pthread_t thread;
    pthread_mutex_t lock; /* everything below but the datasets and cancel */
    pthread_cond_t wake;
    bool quit;
    atomic_bool cancel;

    /* Data: train is the trainer's alone (loaded on first use); test_raw
     * (pixels in [0,1]) is read at start and only read after. */
    bool have_train;
    dn_dataset train, test_raw;
    dn_dataset synth; /* config.drawn drawn digits, then config.others non-digits */
    float mean, std;
    dn_rng sample_rng;

    /* The job. */
    learn_state state;
    learn_params job;
    bool job_auto;      /* a missing served model, kept when done */
    bool job_queued;    /* started, the thread has not taken it yet */
    bool auto_pending[2];
    bool measured[2];
    int runs;
    char error[640];
    double started, seconds;
    int epoch, batch, batches;
    float points[LEARN_MAX_POINTS][3]; /* epochs done (fractional), running loss, running accuracy */
    int point_count, point_stride, point_skip;
    epoch_result epochs[LEARN_MAX_EPOCHS];
    int epoch_count;
    float filters[FILTER_MAX * 9];
    int filter_count;
    dn_net *result;     /* trained, waiting to be kept or discarded */
    dn_model_info result_info;

    /* The weights predictions during training use. */
    pthread_mutex_t snap_lock;
    dn_net *snap;
    float snap_mean, snap_std;
    double snap_epochs;

    server_stream *watchers[LEARN_MAX_WATCHERS];
    int watcher_count;
};

/* ---- events ---- */

/* Sends "event: name\ndata: json\n\n" to every watcher; drops the ones that
 * are gone. l->lock held. */
static void broadcast(learn *l, const char *name, const strbuf *json)
{
    if (json->failed || !json->len)
        return;
    strbuf msg = {0};
    strbuf_printf(&msg, "event: %s\ndata: ", name);
    strbuf_append(&msg, json->data, json->len);
    strbuf_printf(&msg, "\n\n");
    for (int i = 0; !msg.failed && i < l->watcher_count;) {
        if (server_stream_send(l->watchers[i], msg.data, msg.len)) {
            i++;
            continue;
        }
        server_stream_close(l->watchers[i]);
        l->watchers[i] = l->watchers[--l->watcher_count];
    }
    strbuf_free(&msg);
}

static void append_filters(learn *l, strbuf *out)
{
    strbuf_printf(out, "\"filters\":");
    if (!l->filter_count) {
        strbuf_printf(out, "null");
        return;
    }
    strbuf_printf(out, "{\"count\":%d,\"size\":3,\"weights\":[", l->filter_count);
    for (int i = 0; i < l->filter_count * 9; i++) {
        if (i)
            strbuf_printf(out, ",");
        if (!api_append_number(out, l->filters[i], 3))
            strbuf_printf(out, "0");
    }
    strbuf_printf(out, "]}");
}

static void append_epoch(strbuf *out, int i, const epoch_result *e)
{
    strbuf_printf(out, "{\"epoch\":%d,\"loss\":", i + 1);
    api_append_number(out, e->loss, 5);
    strbuf_printf(out, ",\"train_accuracy\":");
    api_append_number(out, e->train_accuracy, 5);
    strbuf_printf(out, ",\"test_accuracy\":");
    api_append_number(out, e->test_accuracy, 5);
    strbuf_printf(out, ",\"seconds\":");
    api_append_number(out, e->seconds, 2);
    strbuf_printf(out, "}");
}

/* What the served models are: ready, or missing and why. l->lock held. */
static void append_models(learn *l, strbuf *out)
{
    strbuf_printf(out, "\"models\":{");
    for (int i = 0; i < 2; i++) {
        api_model *m = &l->a->models[i];
        pthread_mutex_lock(&m->lock);
        bool ready = m->net != NULL;
        float acc = ready ? m->info.test_accuracy : -1;
        pthread_mutex_unlock(&m->lock);
        bool training = l->state == LEARN_RUNNING && l->job_auto && l->job.model == i;
        strbuf_printf(out, "%s\"%s\":{\"ready\":%s,\"training\":%s,\"waiting\":%s,\"accuracy\":", i ? "," : "",
                      model_names[i], ready ? "true" : "false", training ? "true" : "false",
                      !ready && l->auto_pending[i] ? "true" : "false");
        if (!(acc >= 0 && api_append_number(out, acc, 4)))
            strbuf_printf(out, "null");
        strbuf_printf(out, "}");
    }
    strbuf_printf(out, "}");
}

/* The whole state as JSON. l->lock held. */
static void append_status(learn *l, strbuf *out)
{
    double seconds = l->state == LEARN_RUNNING ? dn_seconds() - l->started : l->seconds;
    strbuf_printf(out, "{\"state\":\"%s\",\"data\":%s,\"test_data\":%s,\"threads\":%d,", state_names[l->state],
                  l->have_train ? "true" : "false", l->test_raw.count ? "true" : "false", l->config.threads);
    strbuf_printf(out, "\"job\":");
    if (l->state == LEARN_IDLE)
        strbuf_printf(out, "null");
    else
        strbuf_printf(out, "{\"model\":\"%s\",\"epochs\":%d,\"limit\":%d,\"auto\":%s}", model_names[l->job.model],
                      l->job.epochs, l->job.limit, l->job_auto ? "true" : "false");
    strbuf_printf(out, ",\"epoch\":%d,\"batch\":%d,\"batches\":%d,\"seconds\":", l->epoch, l->batch, l->batches);
    api_append_number(out, seconds, 2);
    strbuf_printf(out, ",\"error\":");
    if (l->error[0])
        api_append_string(out, l->error);
    else
        strbuf_printf(out, "null");
    strbuf_printf(out, ",\"points\":[");
    for (int i = 0; i < l->point_count; i++) {
        strbuf_printf(out, "%s[", i ? "," : "");
        api_append_number(out, l->points[i][0], 4);
        strbuf_printf(out, ",");
        api_append_number(out, l->points[i][1], 4);
        strbuf_printf(out, ",");
        api_append_number(out, l->points[i][2], 4);
        strbuf_printf(out, "]");
    }
    strbuf_printf(out, "],\"epochs\":[");
    for (int i = 0; i < l->epoch_count; i++) {
        if (i)
            strbuf_printf(out, ",");
        append_epoch(out, i, &l->epochs[i]);
    }
    strbuf_printf(out, "],\"pending\":%s,", l->result ? "true" : "false");
    append_filters(l, out);
    strbuf_printf(out, ",");
    append_models(l, out);
    strbuf_printf(out, "}");
}

static void broadcast_status(learn *l)
{
    strbuf json = {0};
    append_status(l, &json);
    broadcast(l, "status", &json);
    strbuf_free(&json);
}

/* A "models" event: a served model changed. Call with l->lock held. */
static void broadcast_models(learn *l)
{
    strbuf json = {0};
    strbuf_printf(&json, "{");
    append_models(l, &json);
    strbuf_printf(&json, "}");
    broadcast(l, "models", &json);
    strbuf_free(&json);
}

/* ---- data ---- */

static bool file_there(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return true;
    snprintf(path, sizeof path, "%s/%s.gz", dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The training set, normalised by its own statistics (dn-train's way);
 * loaded once, on the trainer thread. */
static dn_status load_train(learn *l)
{
    if (l->train.count)
        return DN_OK;
    dn_status status = dn_dataset_load_dir(&l->train, l->config.data_dir, true, 0.0f, 1.0f);
    if (status == DN_OK)
        status = dn_dataset_statistics(&l->train, &l->mean, &l->std);
    if (status == DN_OK)
        status = dn_dataset_normalize(&l->train, l->mean, l->std);
    if (status != DN_OK)
        dn_dataset_free(&l->train);
    return status;
}

/* The test set normalised by mean and std, in memory of its own (free()). */
static dn_dataset normalised_test(const learn *l, float mean, float std)
{
    dn_dataset t = l->test_raw;
    size_t n = (size_t)t.count * t.channels * t.height * t.width;
    t.images = malloc(n * sizeof *t.images);
    if (!t.images) {
        t.count = 0;
        return t;
    }
    for (size_t i = 0; i < n; i++)
        t.images[i] = (l->test_raw.images[i] - mean) / std;
    return t;
}

/* Test accuracy, a chunk at a time so a cancel is seen within a chunk;
 * false when cancelled or failed (then *why says which). */
static bool evaluate(learn *l, dn_net *net, const dn_dataset *test, double *accuracy, dn_status *why)
{
    long correct = 0;
    *why = DN_OK;
    for (int done = 0; done < test->count; done += EVAL_CHUNK) {
        if (atomic_load(&l->cancel)) {
            *why = DN_ERR_STOPPED;
            return false;
        }
        dn_dataset part = *test;
        part.count = test->count - done < EVAL_CHUNK ? test->count - done : EVAL_CHUNK;
        part.images = test->images + (size_t)done * test->channels * test->height * test->width;
        part.labels = test->labels + done;
        double acc;
        *why = dn_evaluate(net, &part, 0, 250, &acc, NULL, 0);
        if (*why != DN_OK)
            return false;
        correct += lrint(acc * part.count);
    }
    *accuracy = test->count ? (double)correct / test->count : 0;
    return true;
}

/* ---- a training job, on the trainer thread ---- */

typedef struct job_run {
    learn *l;
    dn_net *net;
    int epochs;
    double last_emit, last_filters, last_snap;
} job_run;

static float cosine(void *user, int epoch, double fraction)
{
    const job_run *run = user;
    return dn_lr_cosine(TRAIN_LR, TRAIN_WARMUP, 0.0f, (epoch + fraction) / run->epochs);
}

/* conv1's kernels from the net in training (the trainer's own net). */
static void take_filters(learn *l, dn_net *net)
{
    int i = dn_net_find_param(net, "conv1.weight");
    dn_net_param p;
    if (i < 0 || dn_net_get_param(net, i, &p) != DN_OK || p.value.ndim != 4 || p.value.shape[1] != 1 ||
        p.value.shape[2] != 3 || p.value.shape[3] != 3)
        return;
    int count = p.value.shape[0] < FILTER_MAX ? p.value.shape[0] : FILTER_MAX;
    memcpy(l->filters, p.value.data, (size_t)count * 9 * sizeof(float));
    l->filter_count = count;
}

static void refresh_snapshot(learn *l, dn_net *net, double epochs)
{
    pthread_mutex_lock(&l->snap_lock);
    if (l->snap && dn_net_param_count(l->snap) == dn_net_param_count(net)) {
        memcpy(dn_net_params(l->snap), dn_net_params(net), dn_net_param_count(net) * sizeof(float));
        l->snap_epochs = epochs;
    }
    pthread_mutex_unlock(&l->snap_lock);
}

/* A point of the curves; every other one goes when they are full. l->lock held. */
static void add_point(learn *l, double x, double loss, double accuracy)
{
    if (l->point_skip++ % l->point_stride)
        return;
    if (l->point_count == LEARN_MAX_POINTS) {
        for (int i = 0; i < LEARN_MAX_POINTS / 2; i++)
            memcpy(l->points[i], l->points[2 * i], sizeof l->points[i]);
        l->point_count = LEARN_MAX_POINTS / 2;
        l->point_stride *= 2;
    }
    l->points[l->point_count][0] = (float)x;
    l->points[l->point_count][1] = (float)loss;
    l->points[l->point_count][2] = (float)accuracy;
    l->point_count++;
}

static bool on_progress(void *user, const dn_train_progress *p)
{
    job_run *run = user;
    learn *l = run->l;
    if (atomic_load(&l->cancel))
        return false;
    double now = dn_seconds();
    bool last = p->batch == p->batches;
    double x = p->epoch + (double)p->done / p->total;
    if (now - run->last_snap >= SNAPSHOT_S || last) {
        refresh_snapshot(l, run->net, x);
        run->last_snap = now;
    }
    if (now - run->last_emit < EMIT_S && !last)
        return true;
    run->last_emit = now;
    bool filters = now - run->last_filters >= FILTERS_S || last;
    pthread_mutex_lock(&l->lock);
    if (filters) {
        take_filters(l, run->net);
        run->last_filters = now;
    }
    l->epoch = p->epoch;
    l->batch = p->batch;
    l->batches = p->batches;
    add_point(l, x, p->loss, p->accuracy);
    strbuf json = {0};
    strbuf_printf(&json, "{\"model\":\"%s\",\"epoch\":%d,\"epochs\":%d,\"batch\":%d,\"batches\":%d,\"x\":",
                  model_names[l->job.model], p->epoch + 1, run->epochs, p->batch, p->batches);
    api_append_number(&json, x, 4);
    strbuf_printf(&json, ",\"loss\":");
    api_append_number(&json, p->loss, 4);
    strbuf_printf(&json, ",\"accuracy\":");
    api_append_number(&json, p->accuracy, 4);
    strbuf_printf(&json, ",\"seconds\":");
    api_append_number(&json, now - l->started, 2);
    if (filters && l->filter_count) {
        strbuf_printf(&json, ",");
        append_filters(l, &json);
    }
    strbuf_printf(&json, "}");
    broadcast(l, "progress", &json);
    strbuf_free(&json);
    pthread_mutex_unlock(&l->lock);
    return true;
}

/* Saves the trained net to the model's path and serves it (taking it).
 * False with why[0..cap) set when saving failed: the net is still the
 * caller's. */
static bool keep_net(learn *l, int model, dn_net *net, const dn_model_info *info, char *why, size_t cap)
{
    const char *path = l->a->models[model].path;
    if (path && dn_model_save(net, info, path) != DN_OK) {
        snprintf(why, cap, "could not save the trained %s: %s", model_names[model], dn_last_error());
        return false;
    }
    api_install_model(l->a, model, net, info);
    return true;
}

static void finish(learn *l, learn_state state, const char *error)
{
    pthread_mutex_lock(&l->lock);
    l->state = state;
    l->seconds = dn_seconds() - l->started;
    snprintf(l->error, sizeof l->error, "%s", error ? error : "");
    broadcast_status(l);
    pthread_mutex_unlock(&l->lock);
}

static void drop_snapshot(learn *l)
{
    pthread_mutex_lock(&l->snap_lock);
    dn_net_free(l->snap);
    l->snap = NULL;
    pthread_mutex_unlock(&l->snap_lock);
}

/* The drawn digits and non-digits, made once (on the trainer thread) in
 * chunks, so a cancel or a stop is seen within one. */
static dn_status load_synth(learn *l)
{
    if (l->synth.count)
        return DN_OK;
    dn_dataset all = {0};
    dn_status status = DN_OK;
    if (l->config.drawn + l->config.others == 0)
        return DN_OK;
    for (int kind = 0; kind < 2 && status == DN_OK; kind++) {
        int want = kind ? l->config.others : l->config.drawn;
        for (int done = 0; done < want && status == DN_OK; done += SYNTH_CHUNK) {
            if (atomic_load(&l->cancel)) {
                status = DN_ERR_STOPPED;
                break;
            }
            int n = want - done < SYNTH_CHUNK ? want - done : SYNTH_CHUNK;
            dn_dataset part, joined;
            status = dn_synth_dataset(&part, kind ? 0 : n, kind ? n : 0, SYNTH_SEED + (uint64_t)(kind * want + done),
                                      l->mean, l->std);
            if (status != DN_OK)
                break;
            if (!all.count) {
                all = part;
                continue;
            }
            status = dn_dataset_concat(&joined, &all, &part);
            dn_dataset_free(&part);
            dn_dataset_free(&all);
            all = joined;
        }
    }
    if (status != DN_OK) {
        dn_dataset_free(&all);
        return status;
    }
    l->synth = all;
    return DN_OK;
}

/* The job's training set, dn-train's way on digits: the first `limit`
 * MNIST images (all for 0) and, in the same proportion to 60,000, drawn
 * digits and drawings that are not digits (which teach the model to say
 * "not a digit"). Its own memory: dn_dataset_free. */
static dn_status job_data(learn *l, int limit, dn_dataset *out)
{
    dn_status status = load_synth(l);
    if (status != DN_OK)
        return status;
    dn_dataset mnist = l->train;
    if (limit > 0 && limit < mnist.count)
        mnist.count = limit;
    double share = (double)mnist.count / 60000.0;
    if (share > 1)
        share = 1;
    size_t pixels = (size_t)mnist.channels * mnist.height * mnist.width;
    dn_dataset drawn = mnist, others = mnist, part;
    drawn.count = others.count = 0;
    if (l->synth.count) {
        drawn = others = l->synth;
        drawn.count = (int)(l->config.drawn * share);
        others.images += (size_t)l->config.drawn * pixels;
        others.labels += l->config.drawn;
        others.count = (int)(l->config.others * share);
    }
    status = dn_dataset_concat(&part, &mnist, &drawn);
    if (status == DN_OK)
        status = dn_dataset_concat(out, &part, &others);
    dn_dataset_free(&part);
    return status;
}

/* Runs l->job (taken under the lock by the caller) to the end. */
static void run_job(learn *l, learn_params job, bool automatic, uint64_t seed)
{
    char why[600];
    dn_dataset data = {0};
    dn_status status = load_train(l);
    if (status == DN_OK)
        status = job_data(l, job.limit, &data);
    if (status == DN_ERR_STOPPED) {
        finish(l, LEARN_CANCELLED, "cancelled while preparing the data");
        return;
    }
    if (status != DN_OK) {
        snprintf(why, sizeof why, "cannot prepare the training set: %s", dn_last_error());
        finish(l, LEARN_FAILED, why);
        return;
    }
    const char *spec = job.model == 0 ? "cnn" : "mlp";
    dn_net *net = NULL, *snap = NULL;
    dn_optim *opt = NULL;
    dn_optim_config oc = dn_optim_defaults(DN_OPTIM_ADAM);
    if (job.model == 0)
        oc.weight_decay = 1e-4f; /* dn-train's cnn recipe on digits (docs/results.md) */
    dn_dataset test = normalised_test(l, l->mean, l->std);
    status = dn_net_new(&net, spec, seed);
    if (status == DN_OK)
        status = dn_net_new(&snap, spec, seed);
    if (status == DN_OK)
        status = dn_optim_new(&opt, &oc, dn_net_param_count(net));
    if (status != DN_OK || (l->test_raw.count && !test.count)) {
        snprintf(why, sizeof why, "cannot set up the training: %s", status != DN_OK ? dn_last_error() : "out of memory");
        dn_dataset_free(&data);
        dn_net_free(net);
        dn_net_free(snap);
        dn_optim_free(opt);
        free(test.images);
        finish(l, LEARN_FAILED, why);
        return;
    }
    dn_net_set_threads(net, l->config.threads);
    dn_net_set_threads(snap, 1);
    memcpy(dn_net_params(snap), dn_net_params(net), dn_net_param_count(net) * sizeof(float));
    pthread_mutex_lock(&l->snap_lock);
    dn_net_free(l->snap);
    l->snap = snap;
    l->snap_mean = l->mean;
    l->snap_std = l->std;
    l->snap_epochs = 0;
    pthread_mutex_unlock(&l->snap_lock);

    job_run run = {.l = l, .net = net, .epochs = job.epochs};
    pthread_mutex_lock(&l->lock);
    take_filters(l, net);
    broadcast_status(l);
    pthread_mutex_unlock(&l->lock);

    dn_model_info info = dn_model_info_default();
    info.input_mean = l->mean;
    info.input_std = l->std;
    info.seed = (int64_t)seed;
    info.epochs_planned = job.epochs;
    learn_state end = LEARN_FINISHED;
    why[0] = '\0';
    for (int epoch = 0; epoch < job.epochs; epoch++) {
        dn_train_config config = {.batch = TRAIN_BATCH, .lr = TRAIN_LR, .lr_at = cosine, .lr_user = &run,
                                  .augment = true, .digits = true, .background = -l->mean / l->std,
                                  .seed = seed};
        dn_epoch_stats stats;
        status = dn_train_epoch(net, opt, &data, &config, epoch, on_progress, &run, &stats);
        double test_acc = -1;
        if (status == DN_OK && test.count && !evaluate(l, net, &test, &test_acc, &status) && status == DN_OK)
            status = DN_ERR_STOPPED;
        if (status == DN_OK && test.count && epoch == job.epochs - 1)
            status = dn_answer_calibrate_right(net, &test, job.model == 0 ? ANSWER_RATE_CNN : ANSWER_RATE_MLP,
                                               &info.answer_threshold, NULL);
        if (status == DN_ERR_STOPPED) {
            end = LEARN_CANCELLED;
            snprintf(why, sizeof why, "cancelled in epoch %d", epoch + 1);
            break;
        }
        if (status != DN_OK) {
            end = LEARN_FAILED;
            snprintf(why, sizeof why, "training failed: %s", dn_last_error());
            break;
        }
        refresh_snapshot(l, net, epoch + 1);
        info.epochs = epoch + 1;
        info.train_images = stats.samples;
        info.test_accuracy = test_acc >= 0 ? (float)test_acc : -1.0f;
        pthread_mutex_lock(&l->lock);
        epoch_result *e = &l->epochs[l->epoch_count++];
        *e = (epoch_result){stats.loss, stats.accuracy, test_acc, stats.seconds};
        strbuf json = {0};
        append_epoch(&json, epoch, e);
        broadcast(l, "epoch", &json);
        strbuf_free(&json);
        pthread_mutex_unlock(&l->lock);
    }
    dn_optim_free(opt);
    free(test.images);
    dn_dataset_free(&data);
    if (end != LEARN_FINISHED) {
        dn_net_free(net);
        finish(l, end, why);
        return;
    }
    if (automatic) {
        if (keep_net(l, job.model, net, &info, why, sizeof why)) {
            drop_snapshot(l);
            finish(l, LEARN_KEPT, NULL);
        } else {
            /* Served anyway: only the file could not be written. */
            api_install_model(l->a, job.model, net, &info);
            finish(l, LEARN_KEPT, why);
        }
        pthread_mutex_lock(&l->lock);
        broadcast_models(l);
        pthread_mutex_unlock(&l->lock);
        return;
    }
    pthread_mutex_lock(&l->lock);
    dn_net_free(l->result);
    l->result = net;
    l->result_info = info;
    pthread_mutex_unlock(&l->lock);
    finish(l, LEARN_FINISHED, NULL);
}

/* A served model whose file does not say its test accuracy: measured on a
 * copy loaded from the same file, so the served one keeps answering. */
static void measure(learn *l, int i)
{
    api_model *m = &l->a->models[i];
    pthread_mutex_lock(&m->lock);
    bool unknown = m->net && m->info.test_accuracy < 0;
    const dn_net *served = m->net;
    pthread_mutex_unlock(&m->lock);
    dn_net *copy = NULL;
    dn_model_info info;
    if (!unknown || dn_model_load(&copy, &info, m->path) != DN_OK) {
        dn_net_free(copy);
        return;
    }
    dn_net_set_threads(copy, l->config.threads);
    dn_dataset test = normalised_test(l, info.input_mean, info.input_std);
    double acc;
    dn_status why;
    if (test.count && evaluate(l, copy, &test, &acc, &why)) {
        pthread_mutex_lock(&m->lock);
        if (m->net == served)
            m->info.test_accuracy = (float)acc;
        pthread_mutex_unlock(&m->lock);
        pthread_mutex_lock(&l->lock);
        broadcast_status(l);
        pthread_mutex_unlock(&l->lock);
    }
    free(test.images);
    dn_net_free(copy);
}

static void lower_priority(void)
{
    /* Linux: the nice value is per thread, and the OpenMP threads this
     * thread starts inherit it. */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), TRAINER_NICE) != 0)
        fprintf(stderr, "dn-canvas: note: cannot lower the trainer's priority: %s\n", strerror(errno));
}

static void *trainer_main(void *arg)
{
    learn *l = arg;
    lower_priority();
    pthread_mutex_lock(&l->lock);
    for (;;) {
        int automatic = -1, to_measure = -1;
        while (!l->quit && !l->job_queued) {
            /* the MLP first: it is ready in seconds, the CNN takes minutes */
            automatic = l->auto_pending[1] ? 1 : l->auto_pending[0] ? 0 : -1;
            if (automatic >= 0)
                break;
            to_measure = l->test_raw.count && !l->measured[0] ? 0 : l->test_raw.count && !l->measured[1] ? 1 : -1;
            if (to_measure >= 0)
                break;
            pthread_cond_wait(&l->wake, &l->lock);
        }
        if (l->quit)
            break;
        uint64_t seed = 1;
        if (l->job_queued) {
            l->job_queued = false;
            seed = (uint64_t)++l->runs;
        } else if (automatic >= 0) {
            l->auto_pending[automatic] = false;
            l->job = (learn_params){.model = automatic, .epochs = l->config.missing_epochs, .limit = 0};
            l->job_auto = true;
            l->state = LEARN_RUNNING;
            l->started = dn_seconds();
            l->point_count = l->epoch_count = l->filter_count = l->epoch = l->batch = l->batches = 0;
            l->point_stride = 1;
            l->point_skip = 0;
            l->error[0] = '\0';
        } else {
            l->measured[to_measure] = true;
            pthread_mutex_unlock(&l->lock);
            measure(l, to_measure);
            pthread_mutex_lock(&l->lock);
            continue;
        }
        learn_params job = l->job;
        bool is_auto = l->job_auto;
        pthread_mutex_unlock(&l->lock);
        run_job(l, job, is_auto, seed);
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

/* ---- start and stop ---- */

bool learn_start(learn **out, api *a, const learn_config *config, char *error, size_t cap)
{
    learn *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(error, cap, "out of memory");
        return false;
    }
    l->a = a;
    l->config = *config;
    l->point_stride = 1;
    atomic_init(&l->cancel, false);
    pthread_mutex_init(&l->lock, NULL);
    pthread_mutex_init(&l->snap_lock, NULL);
    pthread_cond_init(&l->wake, NULL);
    dn_rng_seed(&l->sample_rng, (uint64_t)time(NULL) ^ (uint64_t)getpid());
    const char *dir = config->data_dir;
    l->have_train = file_there(dir, "train-images-idx3-ubyte") && file_there(dir, "train-labels-idx1-ubyte");
    if (file_there(dir, "t10k-images-idx3-ubyte") && file_there(dir, "t10k-labels-idx1-ubyte") &&
        dn_dataset_load_dir(&l->test_raw, dir, false, 0.0f, 1.0f) != DN_OK) {
        fprintf(stderr, "dn-canvas: note: no test samples: %s\n", dn_last_error());
        l->test_raw = (dn_dataset){0};
    }
    for (int i = 0; i < 2; i++) {
        bool missing = a->models[i].net == NULL;
        l->auto_pending[i] = missing && l->have_train && config->missing_epochs > 0;
        l->measured[i] = missing; /* a trained one knows its accuracy */
    }
    if (pthread_create(&l->thread, NULL, trainer_main, l) != 0) {
        snprintf(error, cap, "cannot start the trainer thread");
        dn_dataset_free(&l->test_raw);
        free(l);
        return false;
    }
    *out = l;
    return true;
}

void learn_stop(learn *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->quit = true;
    atomic_store(&l->cancel, true);
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    for (int i = 0; i < l->watcher_count; i++)
        server_stream_close(l->watchers[i]);
    dn_net_free(l->result);
    dn_net_free(l->snap);
    dn_dataset_free(&l->train);
    dn_dataset_free(&l->synth);
    dn_dataset_free(&l->test_raw);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->snap_lock);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void learn_missing_note(learn *l, int model, char *out, size_t cap)
{
    pthread_mutex_lock(&l->lock);
    if (l->state == LEARN_RUNNING && l->job_auto && l->job.model == model) {
        int pct = l->batches ? 100 * l->batch / l->batches : 0;
        snprintf(out, cap, "still training: epoch %d of %d, %d%% of it", l->epoch + 1, l->job.epochs, pct);
    } else if (l->auto_pending[model]) {
        snprintf(out, cap, l->state == LEARN_RUNNING ? "still training: waiting for the other model to finish"
                                                     : "still training: about to start");
    } else if (!l->have_train) {
        snprintf(out, cap, "missing: no model file at %s and no MNIST in %s to train one", l->a->models[model].path,
                 l->config.data_dir);
    } else {
        snprintf(out, cap, "missing: no model file at %s (start dn-canvas with --train-missing N to train it)",
                 l->a->models[model].path);
    }
    pthread_mutex_unlock(&l->lock);
}

/* ---- the routes ---- */

static void json_status(learn *l, int code, http_response *res, strbuf *out)
{
    pthread_mutex_lock(&l->lock);
    append_status(l, out);
    pthread_mutex_unlock(&l->lock);
    strbuf_printf(out, "\n");
    res->status = code;
    res->content_type = "application/json";
    res->cache_control = "no-store";
}

static void start(learn *l, const server_request *req, http_response *res, strbuf *out)
{
    if (req->body_len > LEARN_MAX_PARAMS_BODY) {
        api_fail(res, out, 413, "the training parameters are a small JSON object (at most 1 KiB)");
        return;
    }
    learn_params p;
    char why[256];
    if (!learn_params_parse(req->body, req->body_len, &p, why, sizeof why)) {
        api_fail(res, out, 400, why);
        return;
    }
    pthread_mutex_lock(&l->lock);
    const char *busy = NULL;
    if (!l->have_train)
        busy = "no MNIST training set here: start dn-canvas with --data DIR (bash datasets/fetch-mnist.sh fetches it)";
    else if (l->state == LEARN_RUNNING && l->job_auto)
        busy = "the server is training a missing model first; try again when it is ready";
    else if (l->state == LEARN_RUNNING || l->job_queued || l->auto_pending[0] || l->auto_pending[1])
        busy = "a training is running already (one at a time): wait for it or cancel it";
    if (busy) {
        pthread_mutex_unlock(&l->lock);
        api_fail(res, out, l->have_train ? 409 : 503, busy);
        return;
    }
    dn_net_free(l->result); /* a trained net nobody kept */
    l->result = NULL;
    l->job = p;
    l->job_auto = false;
    l->job_queued = true;
    l->state = LEARN_RUNNING;
    l->started = dn_seconds();
    l->point_count = l->epoch_count = l->filter_count = l->epoch = l->batch = l->batches = 0;
    l->point_stride = 1;
    l->point_skip = 0;
    l->error[0] = '\0';
    atomic_store(&l->cancel, false);
    broadcast_status(l);
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
    json_status(l, 202, res, out);
}

static void cancel(learn *l, http_response *res, strbuf *out)
{
    pthread_mutex_lock(&l->lock);
    bool ok = l->state == LEARN_RUNNING && !l->job_auto;
    const char *why = l->state != LEARN_RUNNING ? "nothing is training" : "the server's own training of a missing model cannot be cancelled";
    if (ok)
        atomic_store(&l->cancel, true);
    pthread_mutex_unlock(&l->lock);
    if (!ok) {
        api_fail(res, out, 409, why);
        return;
    }
    json_status(l, 202, res, out);
}

static void keep_or_discard(learn *l, bool keep, http_response *res, strbuf *out)
{
    pthread_mutex_lock(&l->lock);
    dn_net *net = l->result;
    dn_model_info info = l->result_info;
    int model = l->job.model;
    l->result = NULL;
    pthread_mutex_unlock(&l->lock);
    if (!net) {
        api_fail(res, out, 409, keep ? "no trained model waits to be kept" : "no trained model waits to be discarded");
        return;
    }
    char why[600];
    if (keep && !keep_net(l, model, net, &info, why, sizeof why)) {
        pthread_mutex_lock(&l->lock);
        if (!l->result && l->state == LEARN_FINISHED)
            l->result = net; /* still waiting: discard it or try again */
        else
            dn_net_free(net);
        pthread_mutex_unlock(&l->lock);
        api_fail(res, out, 500, why);
        return;
    }
    if (!keep)
        dn_net_free(net);
    drop_snapshot(l);
    pthread_mutex_lock(&l->lock);
    l->state = keep ? LEARN_KEPT : LEARN_DISCARDED;
    broadcast_status(l);
    if (keep)
        broadcast_models(l);
    pthread_mutex_unlock(&l->lock);
    json_status(l, 200, res, out);
}

static void watch(learn *l, const server_request *req, http_response *res, strbuf *out)
{
    pthread_mutex_lock(&l->lock);
    if (l->watcher_count == LEARN_MAX_WATCHERS) { /* drop the ones that left */
        static const char ping[] = ": ping\n\n";
        for (int i = 0; i < l->watcher_count;) {
            if (server_stream_send(l->watchers[i], ping, sizeof ping - 1)) {
                i++;
                continue;
            }
            server_stream_close(l->watchers[i]);
            l->watchers[i] = l->watchers[--l->watcher_count];
        }
    }
    if (l->watcher_count == LEARN_MAX_WATCHERS) {
        pthread_mutex_unlock(&l->lock);
        api_fail(res, out, 429, "too many pages are watching the training; close one and reload");
        return;
    }
    res->status = 200;
    res->content_type = "text/event-stream";
    res->cache_control = "no-store";
    server_stream *st = server_stream_open(req);
    if (!st) { /* HEAD, or out of memory: an empty answer */
        pthread_mutex_unlock(&l->lock);
        return;
    }
    strbuf json = {0};
    append_status(l, &json);
    strbuf msg = {0};
    strbuf_printf(&msg, "retry: 3000\n\nevent: status\ndata: ");
    strbuf_append(&msg, json.data ? json.data : "{}", json.data ? json.len : 2);
    strbuf_printf(&msg, "\n\n");
    if (!msg.failed && server_stream_send(st, msg.data, msg.len))
        l->watchers[l->watcher_count++] = st;
    else
        server_stream_close(st);
    strbuf_free(&msg);
    strbuf_free(&json);
    pthread_mutex_unlock(&l->lock);
}

static void predict_in_training(learn *l, const server_request *req, http_response *res, strbuf *out)
{
    float ink[DN_MNIST_PIXELS];
    bool has_ink, inverted;
    double ms;
    if (!api_read_drawing(req, ink, &has_ink, &inverted, &ms, NULL, res, out))
        return;
    float probs[10] = {0};
    pthread_mutex_lock(&l->snap_lock);
    if (!l->snap) {
        pthread_mutex_unlock(&l->snap_lock);
        api_fail(res, out, 409, "no model is in training");
        return;
    }
    double epochs = l->snap_epochs;
    dn_status status = DN_OK;
    if (has_ink) {
        dn_normalize(ink, DN_MNIST_PIXELS, l->snap_mean, l->snap_std);
        status = dn_net_predict(l->snap, ink, 1, probs, 10);
    }
    pthread_mutex_unlock(&l->snap_lock);
    if (status != DN_OK) {
        api_fail(res, out, 500, dn_last_error());
        return;
    }
    int best = 0;
    for (int k = 1; k < 10; k++)
        if (probs[k] > probs[best])
            best = k;
    strbuf_printf(out, "{\"digit\":");
    if (has_ink)
        strbuf_printf(out, "%d", best);
    else
        strbuf_printf(out, "null");
    strbuf_printf(out, ",\"probs\":[");
    for (int k = 0; k < 10; k++) {
        if (k)
            strbuf_printf(out, ",");
        if (!api_append_number(out, probs[k], 5)) {
            api_fail(res, out, 500, "the model in training gave a number that is not finite");
            return;
        }
    }
    strbuf_printf(out, "],\"epoch\":");
    api_append_number(out, epochs, 3);
    strbuf_printf(out, "}\n");
    res->status = 200;
    res->content_type = "application/json";
    res->cache_control = "no-store";
}

static void sample(learn *l, const char *query, http_response *res, strbuf *out)
{
    const dn_dataset *t = &l->test_raw;
    if (!t->count || t->channels != 1 || t->height != 28 || t->width != 28) {
        api_fail(res, out, 503, "no MNIST test set here: start dn-canvas with --data DIR");
        return;
    }
    long index = -1;
    if (strncmp(query, "index=", 6) == 0) {
        const char *v = query + 6;
        char *end;
        errno = 0;
        index = strtol(v, &end, 10);
        if (!*v || *end || errno || index < 0 || index >= t->count || *v == '-' || *v == '+' || *v == ' ') {
            char why[128];
            snprintf(why, sizeof why, "index must be a whole number from 0 to %d", t->count - 1);
            api_fail(res, out, 400, why);
            return;
        }
    } else if (*query) {
        api_fail(res, out, 400, "the only parameter is index=N");
        return;
    } else {
        pthread_mutex_lock(&l->lock);
        index = (long)dn_rng_below(&l->sample_rng, (uint64_t)t->count);
        pthread_mutex_unlock(&l->lock);
    }
    strbuf_printf(out, "{\"index\":%ld,\"label\":%d,\"pixels\":[", index, t->labels[index]);
    const float *px = t->images + (size_t)index * 784;
    for (int i = 0; i < 784; i++) {
        float v = px[i] < 0 ? 0 : px[i] > 1 ? 1 : px[i];
        strbuf_printf(out, "%s%d", i ? "," : "", (int)lrintf(v * 255));
    }
    strbuf_printf(out, "]}\n");
    res->status = 200;
    res->content_type = "application/json";
    res->cache_control = "no-store";
}

bool learn_handle(learn *l, const server_request *req, http_response *res, strbuf *out)
{
    const char *path = req->head->path, *method = req->head->method;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    if (strcmp(path, "/api/sample") == 0 || strcmp(path, "/api/train/events") == 0) {
        if (!get) {
            res->allow = "GET, HEAD";
            api_fail(res, out, 405, "this path answers GET and HEAD only");
        } else if (path[5] == 's') {
            sample(l, req->head->query, res, out);
        } else {
            watch(l, req, res, out);
        }
        return true;
    }
    if (strcmp(path, "/api/train") == 0) {
        if (get)
            json_status(l, 200, res, out);
        else if (post)
            start(l, req, res, out);
        else {
            res->allow = "GET, HEAD, POST";
            api_fail(res, out, 405, "GET the training's state, or POST {\"model\":\"cnn\",\"epochs\":2} to start one");
        }
        return true;
    }
    static const char *const actions[] = {"/api/train/cancel", "/api/train/keep", "/api/train/discard",
                                          "/api/train/predict"};
    int action = 0;
    while (action < 4 && strcmp(path, actions[action]) != 0)
        action++;
    if (action == 4)
        return false;
    if (!post) {
        res->allow = "POST";
        api_fail(res, out, 405, "this path answers POST only");
    } else if (action == 0) {
        cancel(l, res, out);
    } else if (action < 3) {
        keep_or_discard(l, action == 1, res, out);
    } else {
        predict_in_training(l, req, res, out);
    }
    return true;
}
