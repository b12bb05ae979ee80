/* app/cmd_run — `ptim run`. Not built yet: its issue replaces this file. */
#include "app/commands.h"

#include <stdio.h>

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ptim run: not available in this build yet\n");
    return 2;
}
