/* fuzz_model.c - libFuzzer harness for model files and checkpoints: the bytes
 * go to a file in /dev/shm, then dn_model_load and dn_checkpoint_load read it
 * (safetensors parsing, the "arch" spec, tensor matching, metadata numbers,
 * optimizer state); a loaded net is checked and run when small. */
#include <stddef.h>
#include <stdint.h>

#include "digitnet/model.h"
#include "fuzz_common.h"
#include "fuzz_net.h"

static void check_info(const dn_model_info *info)
{
    DN_FUZZ_CHECK(isfinite(info->input_mean) && isfinite(info->input_std) && info->input_std > 0);
    DN_FUZZ_CHECK(info->epochs >= -1 && info->seed >= -1 && info->train_images >= -1);
    DN_FUZZ_CHECK(info->test_accuracy <= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[256];
    if (!dn_fuzz_write_temp(path, sizeof path, ".safetensors", data, size))
        return 0;

    dn_net *net = (dn_net *)1;
    dn_model_info info;
    dn_clear_error();
    dn_status status = dn_model_load(&net, &info, path);
    dn_fuzz_check_failure(status);
    if (status == DN_OK) {
        DN_FUZZ_CHECK(net != NULL);
        check_info(&info);
        const float *p = dn_net_params(net);
        for (size_t i = 0; i < dn_net_param_count(net); i++)
            DN_FUZZ_CHECK(isfinite(p[i])); /* the loader refuses non-finite values */
        dn_fuzz_exercise_net(net);
        dn_net_free(net);
    } else {
        DN_FUZZ_CHECK(net == NULL);
    }

    dn_net *cnet = (dn_net *)1;
    dn_optim *opt = (dn_optim *)1;
    dn_optim_config config;
    float lr = -1;
    int epoch = -1;
    dn_clear_error();
    status = dn_checkpoint_load(&cnet, &opt, &config, &lr, &epoch, &info, path);
    dn_fuzz_check_failure(status);
    if (status == DN_OK) {
        DN_FUZZ_CHECK(cnet != NULL && opt != NULL && lr > 0 && epoch >= 0);
        DN_FUZZ_CHECK(dn_optim_state_count(opt) >= 0);
        dn_net_free(cnet);
        dn_optim_free(opt);
    } else {
        DN_FUZZ_CHECK(cnet == NULL && opt == NULL);
    }
    unlink(path);
    return 0;
}
