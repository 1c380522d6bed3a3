/* tools/cmd_plan.h — `heft plan`: memory per rank, FLOPs and a step-time
 * estimate for a model, rank count and batch, before training it. */
#ifndef HEFT_TOOLS_CMD_PLAN_H
#define HEFT_TOOLS_CMD_PLAN_H

/* argv[0] is "plan". Prints to stdout (errors to stderr); returns the exit
 * code: 0 ok, 1 the backend failed, 2 bad usage. */
int cmd_plan(int argc, char **argv);

#endif
