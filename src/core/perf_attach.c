#include "core/perf_attach.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/log.h"

static const struct am_perf_event_desc events[] = {
    {"cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    {"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
};

const struct am_perf_event_desc *am_perf_event_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (!strcmp(name, events[i].name))
			return &events[i];
	return NULL;
}

const char *am_perf_event_names(void)
{
	return "cpu-clock, cycles, instructions, cache-misses, branch-misses";
}

bool am_perf_event_is_hw(const struct am_perf_event_desc *d)
{
	return d->type == PERF_TYPE_HARDWARE;
}

int am_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
		       unsigned long flags)
{
	long fd = syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags);

	return fd < 0 ? -errno : (int)fd;
}

int am_attach_mode_parse(const char *s, enum am_attach_mode *out)
{
	if (!strcmp(s, "auto"))
		*out = AM_ATTACH_AUTO;
	else if (!strcmp(s, "link"))
		*out = AM_ATTACH_LINK;
	else if (!strcmp(s, "ioctl"))
		*out = AM_ATTACH_IOCTL;
	else
		return -EINVAL;
	return 0;
}

const char *am_attach_mode_name(enum am_attach_mode mode)
{
	return mode == AM_ATTACH_LINK ? "link" : mode == AM_ATTACH_IOCTL ? "ioctl" : "auto";
}

bool am_perf_link_supported(int prog_fd)
{
	int fd;

	/* libbpf's own probe: a kernel that knows BPF_PERF_EVENT links rejects the bad perf fd
	 * with EBADF; an older one rejects the attach type itself with EINVAL. */
	fd = bpf_link_create(prog_fd, -1, BPF_PERF_EVENT, NULL);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	return errno == EBADF;
}

int am_attach_mode_resolve(enum am_attach_mode want, int prog_fd, enum am_attach_mode *out)
{
	bool links = am_perf_link_supported(prog_fd);

	if (want == AM_ATTACH_LINK && !links) {
		am_err("attach mode 'link': this kernel cannot attach BPF programs to perf events "
		       "through BPF links (needs 5.15+); use the mode 'ioctl' or 'auto'");
		return -EOPNOTSUPP;
	}
	*out = want == AM_ATTACH_AUTO ? (links ? AM_ATTACH_LINK : AM_ATTACH_IOCTL) : want;
	am_debug("perf event attach mode: %s (BPF links %ssupported)", am_attach_mode_name(*out),
		 links ? "" : "not ");
	return 0;
}

int am_perf_attach(const struct bpf_program *prog, int pfd, enum am_attach_mode mode,
		   struct am_perf_attachment *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	out->pfd = -1;
	if (mode == AM_ATTACH_LINK) {
		LIBBPF_OPTS(bpf_perf_event_opts, opts);
		/* libbpf creates a BPF link when the kernel has them (checked by the caller) and
		 * enables the event itself. */
		out->link = bpf_program__attach_perf_event_opts(prog, pfd, &opts);
		if (!out->link) {
			err = -errno;
			close(pfd);
			return err ? err : -EINVAL;
		}
		out->pfd = pfd;
		return 0;
	}
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, bpf_program__fd(prog)) < 0 ||
	    ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		err = -errno;
		close(pfd);
		return err;
	}
	out->pfd = pfd;
	out->ioctl_attached = true;
	return 0;
}

void am_perf_detach(struct am_perf_attachment *a)
{
	if (a->link) {
		/* libbpf's perf link owns PFD: destroying it disables and closes the event. */
		bpf_link__destroy(a->link);
		a->link = NULL;
		a->pfd = -1;
	}
	if (a->pfd >= 0) {
		if (a->ioctl_attached)
			ioctl(a->pfd, PERF_EVENT_IOC_DISABLE, 0);
		close(a->pfd);
	}
	a->pfd = -1;
	a->ioctl_attached = false;
}
