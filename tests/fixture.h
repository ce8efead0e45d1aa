/* fixture.h - reads the reference tensors tests/torch/make_fixtures.py writes:
 * "tensor NAME NDIM D0 .. Dn-1" lines, each followed by a line of values. */
#ifndef DN_TEST_FIXTURE_H
#define DN_TEST_FIXTURE_H

#include <stddef.h>

typedef struct dn_fixture_tensor {
    char name[96];
    int ndim;
    int shape[4];
    size_t size;
    float *data;
} dn_fixture_tensor;

typedef struct dn_fixture {
    dn_fixture_tensor *tensors;
    int count;
} dn_fixture;

/* Loads DN_TEST_FIXTURES/file_name; returns 0 and prints why on failure. */
int dn_fixture_load(dn_fixture *fx, const char *file_name);
void dn_fixture_free(dn_fixture *fx);

/* The tensor called name, or NULL (and a printed complaint). */
const dn_fixture_tensor *dn_fixture_get(const dn_fixture *fx, const char *name);

#endif
