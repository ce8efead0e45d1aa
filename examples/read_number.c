/* read_number.c - reads a number written as several digits side by side (a
 * photo of a house number, "2026" drawn on a canvas) with a model file: the
 * ink is cut into digits, each classified like one digit alone.
 *     read_number MODEL.safetensors IMAGE   ->  "IMAGE: 42" and a line per part */
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
    dn_number number;
    dn_status status = dn_model_load(&net, &info, argv[1]);
    if (status == DN_OK)
        status = dn_image_read(&image, argv[2]);
    if (status == DN_OK) {
        dn_number_options options = dn_number_options_default();
        options.input_mean = info.input_mean; /* the model's own normalisation */
        options.input_std = info.input_std;
        options.min_confidence = dn_answer_threshold(info.answer_threshold, -1);
        /* DN_ERR_SHAPE unless the model takes 1x28x28 inputs into 10 classes */
        status = dn_read_number(&number, &image, net, &options);
    }
    if (status == DN_OK) {
        printf("%s: %s\n", argv[2], number.digits > 0 ? number.text : "(no digits)");
        for (int i = 0; i < number.count; i++) { /* left to right */
            const dn_number_part *p = &number.parts[i];
            printf("  %-6s %d (probability %.3f) at x=%d y=%d, %dx%d pixels\n", dn_part_kind_name(p->kind), p->digit,
                   (double)p->probs[p->digit], p->x, p->y, p->w, p->h);
        }
    } else {
        fprintf(stderr, "read_number: %s\n", dn_last_error());
    }
    dn_image_free(&image);
    dn_net_free(net);
    return status == DN_OK ? 0 : 1;
}
