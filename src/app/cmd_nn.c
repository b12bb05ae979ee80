/* app/cmd_nn — `ptim nn`. Not built yet: its issue replaces this file. */
#include "app/commands.h"

#include <stdio.h>

int cmd_nn(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ptim nn: not available in this build yet\n");
    return 2;
}
