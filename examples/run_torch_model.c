/* run_torch_model.c - runs a network trained in PyTorch. In PyTorch, name the
 * modules the way digitnet names its layers (conv1, conv2, ..., fc1, fc2, ...,
 * bn1, ... in order) and save the state dict as safetensors with the
 * architecture, as a digitnet spec (digitnet/net.h), in the metadata:
 *
 *     class Net(nn.Module):
 *         def __init__(self):
 *             super().__init__()
 *             self.conv1 = nn.Conv2d(1, 16, 5)
 *             self.fc1 = nn.Linear(16 * 12 * 12, 64)
 *             self.fc2 = nn.Linear(64, 10)
 *         def forward(self, x):
 *             x = F.max_pool2d(F.relu(self.conv1(x)), 2)
 *             return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))
 *     ... train it on inputs (pixel / 255 - 0.1307) / 0.3081 ...
 *     safetensors.torch.save_file(net.state_dict(), "net.safetensors", metadata={
 *         "arch": "input 1x28x28; conv 16 5; relu; maxpool 2; flatten; linear 64; relu; linear 10",
 *         "input_mean": "0.1307", "input_std": "0.3081"})
 *
 * Without input_mean and input_std MNIST's are assumed; without arch the
 * tensors must be exactly those of the mlp or cnn preset. F16, BF16 and F64
 * tensors are converted to float. Then:
 *     run_torch_model net.safetensors TEST_IMAGES TEST_LABELS [SHOW]
 * prints the network digitnet built from the file and the tensors it took,
 * the classes it predicts for the first SHOW images (default 10) and its
 * accuracy on the whole set. */
#include <digitnet.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s MODEL.safetensors TEST_IMAGES TEST_LABELS [SHOW]\n", argv[0]);
        return 2;
    }
    int show = argc > 4 ? atoi(argv[4]) : 10;
    dn_net *net = NULL;
    dn_model_info info;
    dn_dataset data = {0};
    float *probs = NULL;
    const char *problem = NULL; /* a failure of this program's own, not the library's */

    /* Every tensor is checked: present, the right shape, finite. */
    dn_status status = dn_model_load(&net, &info, argv[1]);
    if (status == DN_OK) {
        printf("architecture: %s\n", dn_net_spec(net));
        for (int i = 0; i < dn_net_param_tensor_count(net); i++) {
            dn_net_param p;
            status = dn_net_get_param(net, i, &p);
            if (status != DN_OK)
                break;
            printf("  %-20s [", p.name);
            for (int d = 0; d < p.value.ndim; d++)
                printf("%s%d", d ? " x " : "", p.value.shape[d]);
            printf("]%s\n", p.trainable ? "" : "  (running statistic)");
        }
    }
    /* The images normalised as the model was trained; dn_evaluate checks
     * that they are the shape the net takes (DN_ERR_SHAPE). */
    double accuracy = 0;
    if (status == DN_OK)
        status = dn_dataset_load(&data, argv[2], argv[3], info.input_mean, info.input_std);
    if (status == DN_OK)
        status = dn_evaluate(net, &data, 0, 256, &accuracy, NULL, 0);
    if (status == DN_OK && show > 0) {
        if (show > data.count)
            show = data.count;
        const int classes = dn_net_num_classes(net);
        probs = malloc((size_t)show * (size_t)classes * sizeof *probs);
        if (!probs) {
            problem = "out of memory";
            status = DN_ERR_NOMEM;
        } else {
            status = dn_net_predict(net, data.images, show, probs, (size_t)show * (size_t)classes);
        }
        if (status == DN_OK) {
            printf("first %d predicted:", show);
            for (int i = 0; i < show; i++)
                printf(" %d", dn_argmax(probs + (size_t)i * (size_t)classes, classes));
            printf("\nfirst %d labels:   ", show);
            for (int i = 0; i < show; i++)
                printf(" %d", data.labels[i]);
            printf("\n");
        }
    }
    if (status == DN_OK)
        printf("accuracy on %d images: %.2f%%\n", data.count, 100 * accuracy);
    else
        fprintf(stderr, "run_torch_model: %s\n", problem ? problem : dn_last_error());
    free(probs);
    dn_dataset_free(&data);
    dn_net_free(net);
    return status == DN_OK ? 0 : 1;
}
