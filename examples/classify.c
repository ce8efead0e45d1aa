/* classify.c - the digit in one image (PGM, PNG or JPEG, told apart by its
 * content, any size, dark ink on light or light on dark) by a model file.
 *     classify MODEL.safetensors IMAGE      ->  "IMAGE: 7 (probability 0.998)" */
#include <digitnet.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.safetensors IMAGE\n", argv[0]);
        return 2;
    }
    dn_net *net = NULL;
    dn_model_info info;
    dn_image image = {0};
    dn_preprocess_info found;
    float x[DN_MNIST_PIXELS], probs[10];
    int shape[3];
    dn_status status = dn_model_load(&net, &info, argv[1]);
    if (status == DN_OK)
        dn_net_input_shape(net, shape);
    if (status == DN_OK && shape[0] * shape[1] * shape[2] != DN_MNIST_PIXELS) {
        fprintf(stderr, "classify: %s does not take 28x28 images\n", argv[1]);
        dn_net_free(net);
        return 1;
    }
    if (status == DN_OK)
        status = dn_image_read(&image, argv[2]);
    if (status == DN_OK) /* any picture of one digit -> MNIST's 28x28 ink, centred */
        status = dn_preprocess_mnist(&image, x, &found);
    if (status == DN_OK) { /* the model's own input normalisation, then softmax */
        dn_normalize(x, DN_MNIST_PIXELS, info.input_mean, info.input_std);
        status = dn_net_predict(net, x, 1, probs, 10); /* DN_ERR_ARG unless 10 classes */
    }
    if (status == DN_OK) {
        float threshold = dn_answer_threshold(info.answer_threshold, -1);
        dn_answer a = dn_answer_from_probs(probs, 10, found.has_ink, threshold);
        if (a.digit >= 0)
            printf("%s: %d (probability %.3f)\n", argv[2], a.digit, (double)a.score);
        else
            printf("%s: %s (probability %.3f)\n", argv[2], dn_refusal_reason(a.refusal), (double)a.score);
    } else {
        fprintf(stderr, "classify: %s\n", dn_last_error());
    }
    dn_image_free(&image);
    dn_net_free(net);
    return status == DN_OK ? 0 : 1;
}
