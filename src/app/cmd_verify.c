/* app/cmd_verify — `ptim verify`. Not built yet: its issue replaces this file. */
#include "app/commands.h"

#include <stdio.h>

int cmd_verify(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ptim verify: not available in this build yet\n");
    return 2;
}
