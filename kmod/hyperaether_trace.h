/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the Hyper-Aether fabric: VM lifecycle, capability
 * denials, messages.  /sys/kernel/tracing/events/hyperaether/.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hyperaether

#if !defined(__HYPERAETHER_TRACE_H__) || defined(TRACE_HEADER_MULTI_READ)
#define __HYPERAETHER_TRACE_H__

#include <linux/tracepoint.h>

TRACE_EVENT(ha_vm_add,
	TP_PROTO(u32 fabric, u32 vm, u32 backend, u64 mem_bytes),
	TP_ARGS(fabric, vm, backend, mem_bytes),
	TP_STRUCT__entry(
		__field(u32, fabric)
		__field(u32, vm)
		__field(u32, backend)
		__field(u64, mem_bytes)
	),
	TP_fast_assign(
		__entry->fabric = fabric;
		__entry->vm = vm;
		__entry->backend = backend;
		__entry->mem_bytes = mem_bytes;
	),
	TP_printk("fabric=%u vm=%u backend=%u mem=%llu",
		  __entry->fabric, __entry->vm, __entry->backend,
		  __entry->mem_bytes)
);

TRACE_EVENT(ha_vm_remove,
	TP_PROTO(u32 fabric, u32 vm),
	TP_ARGS(fabric, vm),
	TP_STRUCT__entry(
		__field(u32, fabric)
		__field(u32, vm)
	),
	TP_fast_assign(
		__entry->fabric = fabric;
		__entry->vm = vm;
	),
	TP_printk("fabric=%u vm=%u", __entry->fabric, __entry->vm)
);

TRACE_EVENT(ha_cap_deny,
	TP_PROTO(u32 fabric, u32 src, u32 dst, const char *op),
	TP_ARGS(fabric, src, dst, op),
	TP_STRUCT__entry(
		__field(u32, fabric)
		__field(u32, src)
		__field(u32, dst)
		__string(op, op)
	),
	TP_fast_assign(
		__entry->fabric = fabric;
		__entry->src = src;
		__entry->dst = dst;
		__assign_str(op);
	),
	TP_printk("fabric=%u src=%u dst=%u op=%s", __entry->fabric,
		  __entry->src, __entry->dst, __get_str(op))
);

DECLARE_EVENT_CLASS(ha_msg,
	TP_PROTO(u32 fabric, u32 src, u32 dst, u32 len),
	TP_ARGS(fabric, src, dst, len),
	TP_STRUCT__entry(
		__field(u32, fabric)
		__field(u32, src)
		__field(u32, dst)
		__field(u32, len)
	),
	TP_fast_assign(
		__entry->fabric = fabric;
		__entry->src = src;
		__entry->dst = dst;
		__entry->len = len;
	),
	TP_printk("fabric=%u src=%u dst=%u len=%u", __entry->fabric,
		  __entry->src, __entry->dst, __entry->len)
);

DEFINE_EVENT(ha_msg, ha_msg_send,
	TP_PROTO(u32 fabric, u32 src, u32 dst, u32 len),
	TP_ARGS(fabric, src, dst, len)
);

DEFINE_EVENT(ha_msg, ha_msg_recv,
	TP_PROTO(u32 fabric, u32 src, u32 dst, u32 len),
	TP_ARGS(fabric, src, dst, len)
);

#endif /* __HYPERAETHER_TRACE_H__ */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE hyperaether_trace
#include <trace/define_trace.h>
