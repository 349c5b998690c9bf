/* Definitions shared by every BPF program and the user side. */
#ifndef ANTIMETAL_EBPF_COMMON_H
#define ANTIMETAL_EBPF_COMMON_H

#define AM_TASK_COMM_LEN 16

#endif
