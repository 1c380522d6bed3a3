#!/bin/sh
# Stands in for an OpenCL test suite when heft is built without the OpenCL
# backend, so the suite reports SKIP (exit 77) rather than vanishing.
echo "SKIP: heft was configured without the OpenCL backend (--without-opencl, or OpenCL/CLBlast not found)"
exit 77
