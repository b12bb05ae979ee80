/* app/cmd_detect — `ptim detect`. Not built yet: its issue replaces this file. */
#include "app/commands.h"

#include <stdio.h>

int cmd_detect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ptim detect: not available in this build yet\n");
    return 2;
}
