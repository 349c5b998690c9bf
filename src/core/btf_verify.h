/* Whether an external BTF file describes the running kernel: a BTF from another kernel parses
 * and loads fine, then silently reads the wrong offsets. */
#ifndef ANTIMETAL_CORE_BTF_VERIFY_H
#define ANTIMETAL_CORE_BTF_VERIFY_H

/* Run the CO-RE proof program (test_core) with BTF_PATH as btf_custom_path and compare what it
 * reads through relocations (task_struct.real_parent->tgid, task state) with what the kernel
 * reports. Needs BPF (root). Returns 0 when they agree; -EINVAL when they differ, logged naming
 * the file and the field; another -errno when the program could not run (reason logged). */
int am_btf_verify_running_kernel(const char *btf_path);

#endif
