/* tools/cmd_weights.h — `heft weights`: show the weights reweight/ gives a
 * list of per-sample losses, without training anything. */
#ifndef HEFT_TOOLS_CMD_WEIGHTS_H
#define HEFT_TOOLS_CMD_WEIGHTS_H

/* argv[0] is "weights". Prints to stdout (stderr for errors); returns the
 * process exit code: 0 ok, 2 bad usage or input. */
int cmd_weights(int argc, char **argv);

#endif
