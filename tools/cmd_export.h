/* tools/cmd_export.h — `heft export`: a model as a Hugging Face directory. */
#ifndef HEFT_TOOLS_CMD_EXPORT_H
#define HEFT_TOOLS_CMD_EXPORT_H

/* argv[0] is "export". Returns the exit code: 0 ok, 1 failed, 2 bad usage. */
int cmd_export(int argc, char **argv);

#endif
