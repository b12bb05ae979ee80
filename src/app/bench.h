/* app/bench — the parts of `ptim bench`. Each takes the arguments after its
 * name (argv[0] is the part's name) and returns an exit status like a command.
 * Each lives in its own file, owned by the layer it measures. */
#ifndef PTIM_APP_BENCH_H
#define PTIM_APP_BENCH_H

int bench_nn_main(int argc, char **argv);   /* app/bench_nn.c: model load and inference */
int bench_face_main(int argc, char **argv); /* app/bench_face.c: detect, track, landmarks */
int bench_mask_main(int argc, char **argv); /* app/bench_mask.c: masking cost per face */

#endif
