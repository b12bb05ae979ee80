/* app/cmd_doctor — `ptim doctor`. Not built yet: its issue replaces this file. */
#include "app/commands.h"

#include <stdio.h>

int cmd_doctor(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ptim doctor: not available in this build yet\n");
    return 2;
}
