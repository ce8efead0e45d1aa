/* test_memory.c - a net's memory is known from its spec before anything is
 * allocated, matches what it really allocates, and a spec or model file
 * that would need more than the limit is refused with a clear message. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digitnet.h"
#include "test_util.h"

/* Tiny in parameters, huge in activations: the shape of a 1.6 KB model file
 * that would make a tool allocate gigabytes. */
static const char *const hungry =
    "input 1x1024x1024; conv 16 3; relu; conv 16 3; relu; conv 16 3; relu; maxpool 8; flatten; linear 10";

#if defined(__SANITIZE_ADDRESS__)
#define DN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DN_ASAN 1
#endif
#endif
#ifdef DN_ASAN
/* from the sanitizer runtime (sanitizer/allocator_interface.h, which gcc
 * does not install) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Bytes the program has allocated: glibc's count, or AddressSanitizer's
 * when it has replaced malloc. */
static size_t heap_in_use(void)
{
#ifdef DN_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#endif
}

/* What dn_net_memory promises is what the net allocates (within the
 * malloc bookkeeping of its small tables). */
static void test_accounting_matches_allocation(const char *spec, int batch)
{
    size_t before = heap_in_use(), promised = 0;
    CHECK_OK(dn_net_spec_memory(spec, batch, &promised));
    dn_net *net;
    CHECK_OK(dn_net_new(&net, spec, 1));
    if (!net)
        return;
    CHECK(dn_net_memory(net, batch) == promised, "%s: the same from the spec and from the net", spec);
    int shape[3];
    dn_net_input_shape(net, shape);
    size_t sample = (size_t)shape[0] * shape[1] * shape[2];
    float *input = calloc((size_t)batch * sample, sizeof *input);
    uint8_t *labels = calloc((size_t)batch, 1);
    CHECK_OK(dn_net_forward(net, input, batch, true));
    CHECK_OK(dn_net_backward(net, labels, NULL, NULL));
    size_t inputs = (size_t)batch * sample * sizeof *input + (size_t)batch;
    double used = (double)(heap_in_use() - before) - (double)inputs;
    /* slack: the net's small tables, alignment, OpenMP's team on first use */
    double slack = 0.03 * (double)promised + (256 << 10);
    CHECK(used > (double)promised - slack && used < (double)promised + slack,
          "%s, batch %d: allocated %.0f bytes, promised %zu", spec, batch, used, promised);
    free(input);
    free(labels);
    dn_net_free(net);
}

static void test_limit(void)
{
    size_t bytes = 0;
    CHECK_OK(dn_net_spec_memory(hungry, 1, &bytes));
    CHECK(bytes > DN_NET_DEFAULT_MEMORY_LIMIT, "the hungry spec needs %zu bytes for one sample", bytes);
    dn_net *net = NULL;
    size_t before = heap_in_use();
    CHECK(dn_net_new(&net, hungry, 1) == DN_ERR_LIMIT && net == NULL, "refused over the limit");
    CHECK(strstr(dn_last_error(), "GiB") && strstr(dn_last_error(), "DN_MEMORY_LIMIT"),
          "the message says how much and how to raise it: %s", dn_last_error());
    CHECK(heap_in_use() < before + (1 << 20), "and nothing large was allocated");

    /* the way to raise it */
    setenv("DN_MEMORY_LIMIT", "16G", 1);
    CHECK_OK(dn_net_new(&net, hungry, 1));
    CHECK(net && dn_net_memory_limit(net) == ((size_t)16 << 30), "DN_MEMORY_LIMIT=16G");
    dn_net_free(net);
    setenv("DN_MEMORY_LIMIT", "lots", 1);
    CHECK(dn_net_new(&net, "mlp", 1) == DN_ERR_ARG && strstr(dn_last_error(), "DN_MEMORY_LIMIT"),
          "a DN_MEMORY_LIMIT that is not a size: %s", dn_last_error());
    unsetenv("DN_MEMORY_LIMIT");

    /* a batch over a lowered limit */
    CHECK_OK(dn_net_new(&net, "cnn", 1));
    if (!net)
        return;
    dn_net_set_memory_limit(net, dn_net_memory(net, 8));
    static float input[16 * 784];
    CHECK_OK(dn_net_forward(net, input, 8, false));
    CHECK(dn_net_forward(net, input, 16, false) == DN_ERR_LIMIT, "16 over a limit made for 8: %s",
          dn_last_error());
    dn_net_free(net);
}

/* The same spec in a model file of a few kilobytes. */
static void test_model_file_refused(void)
{
    char dir[] = "/tmp/dn-test-memory-XXXXXX";
    if (!mkdtemp(dir))
        return;
    char path[300];
    snprintf(path, sizeof path, "%s/hungry.safetensors", dir);
    setenv("DN_MEMORY_LIMIT", "16G", 1);
    dn_net *net = NULL;
    CHECK_OK(dn_net_new(&net, hungry, 1));
    unsetenv("DN_MEMORY_LIMIT");
    if (net)
        CHECK_OK(dn_model_save(net, NULL, path));
    dn_net_free(net);
    net = NULL;
    size_t before = heap_in_use();
    CHECK(dn_model_load(&net, NULL, path) == DN_ERR_LIMIT && net == NULL && strstr(dn_last_error(), path),
          "the model file is refused: %s", dn_last_error());
    CHECK(heap_in_use() < before + (1 << 20), "without allocating what it asks for");
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_accounting_matches_allocation("cnn", 64);
    test_accounting_matches_allocation("cnn-dropout", 32);
    test_accounting_matches_allocation("mlp", 100);
    test_accounting_matches_allocation("input 1x28x28; conv 8 3; batchnorm; relu; maxpool 2; flatten; linear 16; "
                                       "batchnorm; relu; linear 10", 32);
    test_accounting_matches_allocation("input 3x20x20; conv 8 5 stride=2 pad=1; relu; conv 4 3; maxpool 2; flatten; linear 7", 5);
    test_limit();
    test_model_file_refused();
    return dn_test_finish();
}
