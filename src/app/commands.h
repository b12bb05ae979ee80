/* app/commands — the ptim subcommands. Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit status:
 * 0 done, 1 failed while processing, 2 bad usage, configuration or input. */
#ifndef PTIM_APP_COMMANDS_H
#define PTIM_APP_COMMANDS_H

int cmd_config(int argc, char **argv);  /* app/cmd_config.c */
int cmd_doctor(int argc, char **argv);  /* app/cmd_doctor.c */
int cmd_nn(int argc, char **argv);      /* app/cmd_nn.c */
int cmd_bench(int argc, char **argv);   /* app/cmd_bench.c */
int cmd_detect(int argc, char **argv);  /* app/cmd_detect.c */
int cmd_mask(int argc, char **argv);    /* app/cmd_mask.c */
int cmd_run(int argc, char **argv);     /* app/cmd_run.c */
int cmd_verify(int argc, char **argv);  /* app/cmd_verify.c */
int cmd_batch(int argc, char **argv);   /* app/cmd_batch.c */

#endif
