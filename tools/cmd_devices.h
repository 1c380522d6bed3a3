/* tools/cmd_devices.h — `heft devices`: list what heft can compute on. */
#ifndef HEFT_CMD_DEVICES_H
#define HEFT_CMD_DEVICES_H

/* Prints the CPU backend and every OpenCL platform and device with the index
 * the OpenCL backend's device option takes. argv[0] is the command name
 * ("devices"). Returns the process exit code: 0, or 2 for a usage error. */
int cmd_devices(int argc, char **argv);

#endif
