/* tools/cmd_sample.h — `heft sample`: generate text with a model. */
#ifndef HEFT_TOOLS_CMD_SAMPLE_H
#define HEFT_TOOLS_CMD_SAMPLE_H

/* argv[0] is "sample". Returns the exit code: 0 ok, 1 failed, 2 bad usage. */
int cmd_sample(int argc, char **argv);

#endif
