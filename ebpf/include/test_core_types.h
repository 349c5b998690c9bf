/* Event of the CO-RE proof program: fields read from task_struct through relocations. */
#ifndef ANTIMETAL_TEST_CORE_TYPES_H
#define ANTIMETAL_TEST_CORE_TYPES_H

#include "common.h"

/* Which task-state field the running kernel has (renamed in 5.14). */
enum test_core_state_field {
	TEST_CORE_STATE_NEW = 1, /* task_struct.__state */
	TEST_CORE_STATE_OLD = 2, /* task_struct.state */
};

struct test_core_event {
	int pid;
	int tgid;
	int ppid;	    /* task->real_parent->tgid */
	unsigned int state; /* task state when the tracepoint fired */
	int state_field;    /* enum test_core_state_field */
	int hits;
	char comm[AM_TASK_COMM_LEN];
};

#endif
