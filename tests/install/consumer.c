/* consumer.c - a program outside the tree that links an installed libdigitnet:
 * builds the cnn preset and classifies one blank image. */
#include <digitnet.h>
#include <stdio.h>

int main(void)
{
    dn_net *net;
    if (dn_net_new(&net, "cnn", 1) != DN_OK) {
        fprintf(stderr, "dn_net_new: %s\n", dn_last_error());
        return 1;
    }
    float image[784] = {0}, probs[10];
    dn_status status = dn_net_predict(net, image, 1, probs, sizeof probs / sizeof probs[0]);
    size_t params = dn_net_param_count(net);
    dn_net_free(net);
    if (status != DN_OK || params != 1199882) {
        fprintf(stderr, "predict: %s, %zu parameters\n", dn_last_error(), params);
        return 1;
    }
    printf("consumer ok: cnn with %zu parameters, p(0) = %.3f\n", params, (double)probs[0]);
    return 0;
}
