/* fixture.c - the loader for the PyTorch reference files in tests/fixtures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int dn_fixture_load(dn_fixture *fx, const char *file_name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", DN_TEST_FIXTURES, file_name);
    memset(fx, 0, sizeof *fx);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open fixture %s\n", path);
        return 0;
    }
    char word[16];
    int ok = 1;
    while (ok && fscanf(f, " %15s", word) == 1) {
        if (word[0] == '#') {
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            continue;
        }
        dn_fixture_tensor t = {0};
        ok = strcmp(word, "tensor") == 0 && fscanf(f, " %95s %d", t.name, &t.ndim) == 2 &&
             t.ndim >= 1 && t.ndim <= 4;
        t.size = 1;
        for (int i = 0; ok && i < t.ndim; i++) {
            ok = fscanf(f, " %d", &t.shape[i]) == 1 && t.shape[i] > 0;
            t.size *= (size_t)(ok ? t.shape[i] : 1);
        }
        if (ok)
            ok = (t.data = malloc(t.size * sizeof(float))) != NULL;
        for (size_t i = 0; ok && i < t.size; i++)
            ok = fscanf(f, " %f", &t.data[i]) == 1;
        dn_fixture_tensor *grown = ok ? realloc(fx->tensors, (size_t)(fx->count + 1) * sizeof t) : NULL;
        if (!grown) {
            free(t.data);
            ok = 0;
            break;
        }
        fx->tensors = grown;
        fx->tensors[fx->count++] = t;
    }
    fclose(f);
    if (!ok) {
        fprintf(stderr, "fixture %s is malformed near tensor %d\n", path, fx->count + 1);
        dn_fixture_free(fx);
    }
    return ok;
}

void dn_fixture_free(dn_fixture *fx)
{
    for (int i = 0; i < fx->count; i++)
        free(fx->tensors[i].data);
    free(fx->tensors);
    memset(fx, 0, sizeof *fx);
}

const dn_fixture_tensor *dn_fixture_get(const dn_fixture *fx, const char *name)
{
    for (int i = 0; i < fx->count; i++)
        if (strcmp(fx->tensors[i].name, name) == 0)
            return &fx->tensors[i];
    fprintf(stderr, "fixture has no tensor '%s'\n", name);
    return NULL;
}
