/* train.c - trains a network of your own design, given as a spec string, on
 * an IDX dataset (MNIST's format, raw or gzip), showing a progress line, and
 * saves it as a model file that classify, read_number and dn-predict load.
 *     train SPEC TRAIN_IMAGES TRAIN_LABELS OUT.safetensors [EPOCHS [LIMIT]]
 * e.g.
 *     train "input 1x28x28; conv 16 5 stride=2; relu; flatten; linear 10" \
 *           mnist/train-images-idx3-ubyte mnist/train-labels-idx1-ubyte my.safetensors 3
 * The spec grammar is in digitnet/net.h; LIMIT trains on the first LIMIT
 * samples only. Adam at a constant learning rate of 0.001, batches of 64. */
#include <digitnet.h>
#include <stdio.h>
#include <stdlib.h>

/* Called by dn_train_epoch after every optimizer step: a line that rewrites
 * itself (\r) every 20 steps. Returning false would stop the epoch. */
static bool show_progress(void *user, const dn_train_progress *p)
{
    (void)user;
    if (p->batch % 20 == 0 || p->batch == p->batches)
        fprintf(stderr, "\r  epoch %d  batch %d/%d  loss %.4f  accuracy %.2f%%", p->epoch + 1, p->batch,
                p->batches, p->loss, 100 * p->accuracy);
    return true;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: %s SPEC TRAIN_IMAGES TRAIN_LABELS OUT.safetensors [EPOCHS [LIMIT]]\n", argv[0]);
        return 2;
    }
    int epochs = argc > 5 ? atoi(argv[5]) : 3, limit = argc > 6 ? atoi(argv[6]) : 0;
    if (epochs < 1 || limit < 0) {
        fprintf(stderr, "train: EPOCHS must be at least 1 and LIMIT at least 0\n");
        return 2;
    }
    dn_net *net = NULL;
    dn_optim *adam = NULL;
    dn_dataset data = {0};
    float mean = 0, std = 1;

    /* The spec is checked as the net is built: a typo or layers that do not
     * fit together come back as a status and a message saying where. */
    dn_status status = dn_net_new(&net, argv[1], 1);
    /* Pixels as they are (mean 0, std 1), then normalised by the set's own
     * statistics, which the model file keeps for whoever runs it later. */
    if (status == DN_OK)
        status = dn_dataset_load(&data, argv[2], argv[3], 0, 1);
    if (status == DN_OK)
        status = dn_dataset_statistics(&data, &mean, &std);
    if (status == DN_OK)
        status = dn_dataset_normalize(&data, mean, std);
    if (status == DN_OK) {
        dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
        status = dn_optim_new(&adam, &config, dn_net_param_count(net));
    }
    if (status == DN_OK)
        printf("%s\n%zu parameters, %d images, mean %.4f, std %.4f\n", dn_net_spec(net), dn_net_param_count(net),
               limit > 0 && limit < data.count ? limit : data.count, (double)mean, (double)std);

    dn_train_config train = {.batch = 64, .lr = 1e-3f, .seed = 1, .limit = limit};
    dn_epoch_stats stats = {0};
    /* Each epoch checks that the images fit the spec's input (DN_ERR_SHAPE). */
    for (int epoch = 0; epoch < epochs && status == DN_OK; epoch++) {
        status = dn_train_epoch(net, adam, &data, &train, epoch, show_progress, NULL, &stats);
        fputc('\n', stderr);
        if (status == DN_OK)
            printf("epoch %d: loss %.4f, accuracy %.2f%%, %.1f s\n", epoch + 1, stats.loss, 100 * stats.accuracy,
                   stats.seconds);
    }

    if (status == DN_OK) {
        dn_model_info info = dn_model_info_default();
        info.input_mean = mean;
        info.input_std = std;
        info.epochs = epochs;
        info.seed = 1;
        info.train_images = stats.samples;
        status = dn_model_save(net, &info, argv[4]); /* written atomically */
    }
    if (status == DN_OK)
        printf("saved %s\n", argv[4]);
    else
        fprintf(stderr, "train: %s\n", dn_last_error());
    dn_dataset_free(&data);
    dn_optim_free(adam);
    dn_net_free(net);
    return status == DN_OK ? 0 : 1;
}
