/* tools/cmd_prepare.h — the `heft prepare` subcommand. */
#ifndef HEFT_TOOLS_CMD_PREPARE_H
#define HEFT_TOOLS_CMD_PREPARE_H

/* argv[0] is "prepare"; prints a summary or an error; returns the exit code
 * (0 success, 1 failure, 2 usage error). */
int cmd_prepare(int argc, char **argv);

#endif
