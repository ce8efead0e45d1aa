/* bench_probe.c - where the time of a probe goes for one 28x28 input: making
 * it, the forward pass, the input gradient, dn_net_predict, and integrated
 * gradients of 32 steps from a blank input (as dn-canvas's ?saliency=ig),
 * on one thread. Run by hand: bench_probe MODEL [ROUNDS] (docs/results.md). */
#include <stdio.h>
#include <stdlib.h>

#include "digitnet/clock.h"
#include "digitnet/model.h"
#include "digitnet/net.h"
#include "digitnet/probe.h"

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_probe MODEL [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 500;
    if (rounds < 1)
        rounds = 1;
    dn_net *net;
    dn_model_info info;
    if (dn_model_load(&net, &info, argv[1]) != DN_OK) {
        fprintf(stderr, "%s\n", dn_last_error());
        return 1;
    }
    dn_net_set_threads(net, 1);
    int shape[3];
    dn_net_input_shape(net, shape);
    size_t size = (size_t)shape[0] * shape[1] * shape[2];
    float *x = malloc(size * sizeof *x), *grad = malloc(size * sizeof *grad), weights[256] = {0}, probs[256];
    float *blank = malloc(size * sizeof *blank);
    for (size_t i = 0; i < size; i++)
        blank[i] = -0.42f; /* no ink, normalised */
    for (size_t i = 0; i < size; i++) /* a bar across the middle */
        x[i] = (i % 28 > 8 && i % 28 < 18 && i / 28 > 5 && i / 28 < 22) ? 2.8f : -0.42f;
    weights[3] = 1;
    enum { TIMES = 7 };
    double *t[TIMES];
    for (int k = 0; k < TIMES; k++)
        t[k] = malloc((size_t)rounds * sizeof(double));
    for (int r = 0; r < rounds; r++) {
        double t0 = dn_seconds();
        dn_probe *probe;
        if (dn_probe_new(&probe, net) != DN_OK)
            return 1;
        dn_probe_set_threads(probe, 1);
        double t1 = dn_seconds();
        dn_probe_run(probe, x, 1);
        double t2 = dn_seconds();
        dn_probe_input_gradient(probe, weights, (size_t)dn_net_num_classes(net), grad, size);
        double t3 = dn_seconds();
        dn_probe_free(probe);
        dn_net_predict(net, x, 1, probs, 256);
        double t4 = dn_seconds();
        dn_net_predict(net, x, 1, probs, 256);
        double t5 = dn_seconds();
        dn_probe *ig;
        if (dn_probe_new(&ig, net) != DN_OK)
            return 1;
        dn_probe_set_threads(ig, 1);
        double t6 = dn_seconds();
        dn_probe_integrated_gradients(ig, x, blank, 32, weights, (size_t)dn_net_num_classes(net), grad, size);
        double t7 = dn_seconds();
        dn_probe_integrated_gradients(ig, x, blank, 32, weights, (size_t)dn_net_num_classes(net), grad, size);
        double t8 = dn_seconds();
        dn_probe_free(ig);
        t[5][r] = t7 - t6;
        t[6][r] = t8 - t7;
        t[0][r] = t1 - t0;
        t[1][r] = t2 - t1;
        t[2][r] = t3 - t2;
        t[3][r] = t4 - t3;
        t[4][r] = t5 - t4;
    }
    static const char *what[] = {"dn_probe_new",
                                 "dn_probe_run (first)",
                                 "dn_probe_input_gradient (first)",
                                 "dn_probe_free + dn_net_predict",
                                 "dn_net_predict",
                                 "integrated gradients, 32 steps (new probe)",
                                 "integrated gradients, 32 steps (again)"};
    printf("%s, 1 thread, %d rounds (a new probe each round, as dn-canvas makes one per request):\n", argv[1], rounds);
    for (int k = 0; k < TIMES; k++) {
        qsort(t[k], (size_t)rounds, sizeof(double), compare);
        printf("  %-44s median %7.3f ms  p99 %7.3f ms\n", what[k], t[k][rounds / 2] * 1e3,
               t[k][(rounds * 99) / 100] * 1e3);
        free(t[k]);
    }
    free(x);
    free(grad);
    free(blank);
    dn_net_free(net);
    return 0;
}
