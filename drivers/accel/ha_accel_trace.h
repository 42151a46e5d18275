/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hyper-Aether accel driver tracepoints: a job's life (submit, run, done,
 * timeout) and every slice of epochs the engine runs.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hyperaether_accel

#if !defined(_HA_ACCEL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _HA_ACCEL_TRACE_H

#include <linux/tracepoint.h>

#include "ha_accel.h"

DECLARE_EVENT_CLASS(ha_accel_job,
	TP_PROTO(struct ha_accel_job *job),
	TP_ARGS(job),
	TP_STRUCT__entry(
		__field(u64, fence_ctx)
		__field(u64, seqno)
		__field(u32, id)
		__field(int, error)
		__field(u32, epochs)
		__field(u64, insns)
	),
	TP_fast_assign(
		__entry->fence_ctx = job->done.context;
		__entry->seqno = job->done.seqno;
		__entry->id = job->id;
		__entry->error = job->error;
		__entry->epochs = job->epochs;
		__entry->insns = job->insns;
	),
	TP_printk("fence=%llu:%llu job=%u error=%d epochs=%u insns=%llu",
		  __entry->fence_ctx, __entry->seqno, __entry->id,
		  __entry->error, __entry->epochs, __entry->insns)
);

DEFINE_EVENT(ha_accel_job, ha_accel_job_submit,
	TP_PROTO(struct ha_accel_job *job), TP_ARGS(job));
DEFINE_EVENT(ha_accel_job, ha_accel_job_run,
	TP_PROTO(struct ha_accel_job *job), TP_ARGS(job));
DEFINE_EVENT(ha_accel_job, ha_accel_job_done,
	TP_PROTO(struct ha_accel_job *job), TP_ARGS(job));
DEFINE_EVENT(ha_accel_job, ha_accel_job_timeout,
	TP_PROTO(struct ha_accel_job *job), TP_ARGS(job));

TRACE_EVENT(ha_accel_slice,
	TP_PROTO(struct ha_accel_job *job, u32 first_epoch, u32 epochs,
		 u32 active),
	TP_ARGS(job, first_epoch, epochs, active),
	TP_STRUCT__entry(
		__field(u64, fence_ctx)
		__field(u64, seqno)
		__field(u32, first_epoch)
		__field(u32, epochs)
		__field(u32, active)
	),
	TP_fast_assign(
		__entry->fence_ctx = job->done.context;
		__entry->seqno = job->done.seqno;
		__entry->first_epoch = first_epoch;
		__entry->epochs = epochs;
		__entry->active = active;
	),
	TP_printk("fence=%llu:%llu epochs=%u..%u active=%u",
		  __entry->fence_ctx, __entry->seqno, __entry->first_epoch,
		  __entry->first_epoch + __entry->epochs, __entry->active)
);

#endif /* _HA_ACCEL_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE ha_accel_trace
#include <trace/define_trace.h>
