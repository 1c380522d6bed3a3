/* backends/opencl/cl_errors.h — the OpenCL headers at the API level heft
 * targets, and readable names for OpenCL and CLBlast status codes, so errors
 * read "clBuildProgram: CL_BUILD_PROGRAM_FAILURE (-11)" and not just "-11". */
#ifndef HEFT_CL_ERRORS_H
#define HEFT_CL_ERRORS_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <CL/cl_ext.h> /* CL_PLATFORM_NOT_FOUND_KHR from the ICD loader */

/* "CL_OUT_OF_RESOURCES", or "unknown OpenCL error" for a code not in the
 * OpenCL 1.2 / ICD-loader lists. */
const char *cl_error_name(cl_int code);

/* "CLBlastInsufficientMemoryC" and the like; CLBlast shares the OpenCL codes
 * below -1000 and adds its own. */
const char *clblast_status_name(int status);

#endif
