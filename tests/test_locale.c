/* test_locale.c - every number the library reads or writes is the same in a
 * program that called setlocale() for a language with a decimal comma:
 * specs, model metadata, checkpoints and JSON numbers.
 * Skipped (77) when no such locale is installed (.ci/run makes de_DE). */
#define _GNU_SOURCE
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digitnet.h"
#include "test_util.h"

static bool use_comma_locale(void)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                        "nl_NL.UTF-8", "ru_RU.UTF-8"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!setlocale(LC_ALL, names[i]))
            continue;
        char probe[16];
        snprintf(probe, sizeof probe, "%.1f", 0.5);
        if (strcmp(probe, "0,5") == 0) {
            printf("locale %s (printf writes 0.5 as %s)\n", names[i], probe);
            return true;
        }
    }
    return false;
}

/* A file's bytes as a NUL-terminated string (the safetensors header is text). */
static bool file_contains(const char *path, const char *needle)
{
    size_t len;
    char *text = dn_test_read_file(path, &len);
    bool found = text && memmem(text, len, needle, strlen(needle)) != NULL;
    free(text);
    return found;
}

int main(void)
{
    if (!use_comma_locale()) {
        printf("skipped: no locale with a decimal comma is installed (e.g. localedef -i de_DE -f UTF-8 de_DE.UTF-8)\n");
        return DN_TEST_SKIP;
    }
    char dir[] = "/tmp/dn-test-locale-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char model[300], checkpoint[300];
    snprintf(model, sizeof model, "%s/m.safetensors", dir);
    snprintf(checkpoint, sizeof checkpoint, "%s/c.safetensors", dir);

    dn_net *net = NULL, *loaded = NULL;
    CHECK_OK(dn_net_new(&net, "input 1x28x28; flatten; dropout 0.25; linear 10", 1));
    if (!net)
        return dn_test_finish();
    CHECK(strstr(dn_net_spec(net), "dropout 0.25") != NULL, "spec written with a point: %s", dn_net_spec(net));

    dn_model_info info = dn_model_info_default();
    info.test_accuracy = 0.987f;
    CHECK_OK(dn_model_save(net, &info, model));
    CHECK(file_contains(model, "\"0.1307") && !file_contains(model, "0,1307"),
          "metadata written with a point");
    dn_model_info got;
    CHECK_OK(dn_model_load(&loaded, &got, model));
    CHECK(got.input_mean == info.input_mean && got.input_std == info.input_std &&
              got.test_accuracy == info.test_accuracy,
          "metadata read back: mean %g std %g accuracy %g", got.input_mean, got.input_std, got.test_accuracy);
    dn_net_free(loaded);

    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    dn_optim *opt = NULL, *opt_loaded = NULL;
    CHECK_OK(dn_optim_new(&opt, &config, dn_net_param_count(net)));
    CHECK_OK(dn_checkpoint_save(net, opt, &config, 0.002f, 1, &info, checkpoint));
    dn_optim_config got_config;
    float lr = 0;
    int epoch = 0;
    CHECK_OK(dn_checkpoint_load(&loaded, &opt_loaded, &got_config, &lr, &epoch, NULL, checkpoint));
    CHECK(lr == 0.002f && got_config.beta2 == config.beta2 && got_config.eps == config.eps,
          "checkpoint numbers read back: lr %g beta2 %g eps %g", lr, got_config.beta2, got_config.eps);
    dn_net_free(loaded);
    dn_optim_free(opt_loaded);
    dn_optim_free(opt);

    char number[64];
    CHECK_OK(dn_json_format_number(number, sizeof number, 0.25, 3));
    CHECK(strcmp(number, "0.250") == 0, "JSON number with a point: %s", number);

    dn_net_free(net);
    unlink(model);
    unlink(checkpoint);
    rmdir(dir);
    return dn_test_finish();
}
