/* app/bench_mask — `ptim bench mask`. Not built yet: its issue replaces this file. */
#include "app/bench.h"

#include <stdio.h>

int bench_mask_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ptim bench mask: not available in this build yet\n");
    return 2;
}
