/* digitnet/threads.h - keeping the computing threads on their cores.
 *
 * digitnet computes with OpenMP threads (dn_net_set_threads), and every
 * training step ends when its slowest thread does. On a machine where
 * another process is busy, the kernel moves unpinned threads from core to
 * core to share them out, and the step waits for whichever thread was just
 * moved or paused. Pinned, each thread keeps its core and the scheduler
 * moves the other process instead. Measured on 2 cores with one `yes` beside
 * CNN training (docs/performance.md): 55% of the quiet speed unpinned, 69%
 * pinned; quiet, the same.
 *
 * Pinning is a decision for the whole process, so the library never does it
 * by itself: a tool that owns its process (dn-train does) asks for it.
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: dn_threads_pin changes the calling thread and OpenMP's
 * worker threads; call it from the main thread before computing, never while
 * another thread computes with OpenMP. */
#ifndef DIGITNET_THREADS_H
#define DIGITNET_THREADS_H

#include "digitnet/export.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pins the calling thread and OpenMP's worker threads - a team of threads
 * (0: OpenMP's default) - each to one CPU the process may run on, one core
 * after another before any core's second hardware thread (from the kernel's
 * topology in /sys, when readable), wrapping around when there are more
 * threads than CPUs. Does nothing and returns DN_OK for fewer than 2
 * threads (a lone thread is better free to move), for a process that may
 * run on one CPU only, when OMP_PROC_BIND is set in the environment (OpenMP
 * places the threads itself), without OpenMP, and off Linux. The pins stay
 * for the threads' lives; a larger team later has unpinned extra threads.
 * Call it once: pinned, the calling thread may run on one CPU only, so a
 * second call does nothing. *pinned (may be NULL) receives the number of
 * threads pinned. Errors:
 * DN_ERR_ARG for a negative threads; DN_ERR_IO when the kernel refuses
 * (the threads stay as they were, or some pinned: *pinned says how many). */
DN_API dn_status dn_threads_pin(int threads, int *pinned);

#ifdef __cplusplus
}
#endif
#endif
