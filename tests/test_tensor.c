/* test_tensor.c - tensors, views, the error message and the RNG. */
#include <stdint.h>
#include <string.h>

#include "digitnet/rng.h"
#include "digitnet/status.h"
#include "digitnet/tensor.h"
#include "test_util.h"

static void test_new_and_view(void)
{
    dn_tensor t;
    CHECK_OK(dn_tensor_new(&t, 4, (int[]){2, 3, 4, 5}));
    CHECK(t.size == 120, "size %zu", t.size);
    CHECK(((uintptr_t)t.data & 63) == 0, "buffer is 64-byte aligned");
    bool zero = true;
    for (size_t i = 0; i < t.size; i++)
        zero &= t.data[i] == 0.0f;
    CHECK(zero, "new tensor is zero-filled");

    dn_tensor flat;
    CHECK_OK(dn_tensor_reshape(&flat, &t, 2, (int[]){2, 60}));
    CHECK(flat.data == t.data && !flat.owns_data, "flatten is a view on the same buffer");
    CHECK(!dn_tensor_same_shape(&flat, &t) && dn_tensor_same_shape(&t, &t), "same_shape compares extents");
    t.data[61] = 7.0f;
    CHECK(flat.data[61] == 7.0f, "writes show through the view");
    CHECK(dn_tensor_reshape(&flat, &t, 2, (int[]){7, 60}) == DN_ERR_SHAPE, "size mismatch refused");
    CHECK(strstr(dn_last_error(), "reshape") != NULL, "message names the failure: %s", dn_last_error());
    dn_tensor_free(&flat); /* a view: must not free t's buffer */
    CHECK(t.data[61] == 7.0f, "freeing a view leaves the owner intact");
    dn_tensor_free(&t);
    CHECK(t.data == NULL && t.size == 0, "free resets the tensor");
    dn_tensor_free(&t);
}

static void test_bad_shapes(void)
{
    dn_tensor t;
    CHECK(dn_tensor_new(&t, -1, (int[]){1}) == DN_ERR_SHAPE, "-1 dims refused");
    CHECK_OK(dn_tensor_new(&t, 0, NULL));
    CHECK(t.ndim == 0 && t.size == 1, "0 dims: a scalar of one element");
    dn_tensor_free(&t);
    CHECK(dn_tensor_new(&t, 5, (int[]){1, 1, 1, 1, 1}) == DN_ERR_SHAPE, "5 dims refused");
    CHECK(dn_tensor_new(&t, 2, (int[]){3, 0}) == DN_ERR_SHAPE, "zero extent refused");
    CHECK(dn_tensor_new(&t, 2, (int[]){-1, 4}) == DN_ERR_SHAPE, "negative extent refused");
    CHECK(dn_tensor_new(&t, 4, (int[]){1 << 30, 1 << 30, 1 << 30, 1 << 30}) == DN_ERR_SHAPE,
          "overflowing size refused");
}

static void test_rng(void)
{
    dn_rng a, b;
    dn_rng_seed(&a, 42);
    dn_rng_seed(&b, 42);
    bool same = true;
    for (int i = 0; i < 100; i++)
        same &= dn_rng_next(&a) == dn_rng_next(&b);
    CHECK(same, "same seed, same sequence");
    dn_rng_seed(&b, 43);
    CHECK(dn_rng_next(&a) != dn_rng_next(&b), "different seeds differ");

    double sum = 0, sum_sq = 0;
    int counts[10] = {0};
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        float u = dn_rng_uniform(&a);
        CHECK(u >= 0.0f && u < 1.0f, "uniform in [0,1): %g", u);
        float z = dn_rng_normal(&a);
        sum += z;
        sum_sq += (double)z * z;
        counts[dn_rng_below(&a, 10)]++;
    }
    double mean = sum / n, var = sum_sq / n - mean * mean;
    CHECK(mean > -0.01 && mean < 0.01, "normal mean %g", mean);
    CHECK(var > 0.98 && var < 1.02, "normal variance %g", var);
    for (int k = 0; k < 10; k++)
        CHECK(counts[k] > n / 10 * 0.97 && counts[k] < n / 10 * 1.03, "bucket %d: %d", k, counts[k]);

    int items[50];
    for (int i = 0; i < 50; i++)
        items[i] = i;
    dn_rng_shuffle(&a, items, 50);
    int seen[50] = {0};
    for (int i = 0; i < 50; i++)
        seen[items[i]]++;
    bool permutation = true;
    for (int i = 0; i < 50; i++)
        permutation &= seen[i] == 1;
    CHECK(permutation, "shuffle is a permutation");
}

int main(void)
{
    test_new_and_view();
    test_bad_shapes();
    test_rng();
    return dn_test_finish();
}
