/* app/cmd_mask — `ptim mask`. Not built yet: its issue replaces this file. */
#include "app/commands.h"

#include <stdio.h>

int cmd_mask(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ptim mask: not available in this build yet\n");
    return 2;
}
