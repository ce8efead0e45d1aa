/* bench.h - the measurements behind dn-train --bench and dn-predict --bench:
 * the machine's FMA peak, training steps per layer, inference latency and
 * throughput. Results go to stdout as a table. */
#ifndef DN_BENCH_H
#define DN_BENCH_H

#include "digitnet/net.h"

/* Peak single-precision GFLOP/s of `threads` threads running independent
 * fused multiply-add chains at the widest vector width this build targets. */
double bench_peak_gflops(int threads);

/* Times `steps` training steps (after warm-up) of net at `batch` on random
 * data and prints per-layer time, GFLOP/s and percent of peak. */
int bench_training(dn_net *net, int batch, int threads, int steps);

/* Prints single-image latency on one thread (`runs` runs) and batched
 * throughput at batch 1000 on `threads` threads. */
int bench_inference(dn_net *net, int runs, int threads);

#endif
