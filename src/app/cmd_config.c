/* app/cmd_config — `ptim config`. Not built yet: its issue replaces this file. */
#include "app/commands.h"

#include <stdio.h>

int cmd_config(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ptim config: not available in this build yet\n");
    return 2;
}
