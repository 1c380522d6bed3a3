/* tools/commands.h — the subcommands of the `heft` program. Each takes its own
 * argv (argv[0] is the subcommand's name) and returns the process exit code:
 * 0 success, 1 a failure while working, 2 a usage error. */
#ifndef HEFT_TOOLS_COMMANDS_H
#define HEFT_TOOLS_COMMANDS_H

int cmd_train(int argc, char **argv);

#endif
