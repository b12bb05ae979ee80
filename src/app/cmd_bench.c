/* app/cmd_bench — `ptim bench`. Not built yet: its issue replaces this file. */
#include "app/commands.h"

#include <stdio.h>

int cmd_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ptim bench: not available in this build yet\n");
    return 2;
}
