/* One cgroup's sample (collectors/parse/cgroup_read.h) into antimetal_cgroup_* metrics: the
 * descriptors and their units live here, the walk and the selection in cgroup.c. */
#ifndef ANTIMETAL_COLLECTORS_CGROUP_METRICS_H
#define ANTIMETAL_COLLECTORS_CGROUP_METRICS_H

#include "collectors/parse/cgroup_read.h"
#include "records/metric.h"

/* The labels every per-cgroup metric carries ("" where the path names none). */
struct am_cgroup_labels {
	const char *cgroup, *container_id, *runtime, *pod_uid, *qos;
};

/* Append S's metrics for the cgroup L names to OUT. Fields the sample lacks (a controller the
 * cgroup is not in, v2-only files on v1) are left out, and so are unlimited limits. */
void am_cgroup_emit(const struct am_cgroup_sample *s, const struct am_cgroup_labels *l,
		    struct am_metric_set *out);

#endif
