/* app/bench_nn — `ptim bench nn`. Not built yet: its issue replaces this file. */
#include "app/bench.h"

#include <stdio.h>

int bench_nn_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ptim bench nn: not available in this build yet\n");
    return 2;
}
