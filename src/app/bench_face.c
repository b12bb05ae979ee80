/* app/bench_face — `ptim bench face`. Not built yet: its issue replaces this file. */
#include "app/bench.h"

#include <stdio.h>

int bench_face_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ptim bench face: not available in this build yet\n");
    return 2;
}
