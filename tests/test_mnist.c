/* test_mnist.c - the real MNIST files in datasets/mnist (raw or .gz): sizes,
 * the test set's class counts and the training pixel statistics. Skipped
 * (exit 77) when datasets/fetch-mnist.sh has not been run. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "digitnet/idx.h"
#include "digitnet/status.h"
#include "test_util.h"

#define MNIST_DIR DN_SOURCE_DIR "/datasets/mnist"

static bool present(const char *name)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", MNIST_DIR, name);
    if (stat(path, &st) == 0)
        return true;
    snprintf(path, sizeof path, "%s/%s.gz", MNIST_DIR, name);
    return stat(path, &st) == 0;
}

static void test_test_set(void)
{
    dn_dataset ds;
    CHECK_OK(dn_dataset_load_dir(&ds, MNIST_DIR, false, 0, 1));
    if (!ds.images)
        return;
    CHECK(ds.count == 10000 && ds.channels == 1 && ds.height == 28 && ds.width == 28 && ds.num_classes == 10,
          "test set %d x %d x %d x %d", ds.count, ds.channels, ds.height, ds.width);
    const int expected[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    int counts[10] = {0};
    for (int i = 0; i < ds.count; i++)
        counts[ds.labels[i]]++;
    for (int c = 0; c < 10; c++)
        CHECK(counts[c] == expected[c], "test set has %d images of %d, expected %d", counts[c], c, expected[c]);
    dn_dataset_free(&ds);
}

static void test_train_set(void)
{
    dn_dataset ds;
    CHECK_OK(dn_dataset_load_dir(&ds, MNIST_DIR, true, 0, 1));
    if (!ds.images)
        return;
    CHECK(ds.count == 60000 && ds.channels == 1 && ds.height == 28 && ds.width == 28,
          "training set %d x %d x %d x %d", ds.count, ds.channels, ds.height, ds.width);
    size_t n = (size_t)ds.count * 28 * 28;
    double sum = 0, sum_sq = 0, low = 1, high = 0;
    for (size_t i = 0; i < n; i++) {
        double x = ds.images[i];
        sum += x;
        sum_sq += x * x;
        low = fmin(low, x);
        high = fmax(high, x);
    }
    double mean = sum / (double)n, std = sqrt(sum_sq / (double)n - mean * mean);
    CHECK(fabs(mean - DN_MNIST_MEAN) < 5e-4, "training pixel mean %.5f, expected %.4f", mean, DN_MNIST_MEAN);
    CHECK(fabs(std - DN_MNIST_STD) < 5e-4, "training pixel std %.5f, expected %.4f", std, DN_MNIST_STD);
    CHECK(low == 0.0 && high == 1.0, "pixels span [%g, %g]", low, high);
    int counts[10] = {0};
    for (int i = 0; i < ds.count; i++)
        counts[ds.labels[i]]++;
    CHECK(counts[1] == 6742 && counts[5] == 5421, "training class counts (1: %d, 5: %d)", counts[1], counts[5]);
    dn_dataset_free(&ds);

    CHECK_OK(dn_dataset_load_dir(&ds, MNIST_DIR, true, DN_MNIST_MEAN, DN_MNIST_STD));
    sum = 0;
    for (size_t i = 0; ds.images && i < n; i++)
        sum += ds.images[i];
    CHECK(fabs(sum / (double)n) < 2e-3, "normalised mean %.5f is about 0", sum / (double)n);
    dn_dataset_free(&ds);
}

int main(void)
{
    const char *names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"};
    for (int i = 0; i < 4; i++) {
        if (!present(names[i])) {
            printf("SKIP: %s/%s(.gz) not found; run datasets/fetch-mnist.sh\n", MNIST_DIR, names[i]);
            return DN_TEST_SKIP;
        }
    }
    test_test_set();
    test_train_set();
    return dn_test_finish();
}
