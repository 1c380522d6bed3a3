/* tools/cmd_score.h — `heft score`: a reference model's loss on every
 * training window, once, into a side file for the reducible rule. */
#ifndef HEFT_TOOLS_CMD_SCORE_H
#define HEFT_TOOLS_CMD_SCORE_H

/* argv[0] is "score". Returns the process exit code: 0 ok, 1 a failure
 * while scoring, 2 bad usage. */
int cmd_score(int argc, char **argv);

#endif
