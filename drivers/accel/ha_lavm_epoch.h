/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry points of the AVX2 build of the LAVM epoch engine
 * (ha_lavm_epoch_avx2.c): lavm.h's lavm_epoch_* with an _avx2 suffix.
 */
#ifndef __HA_LAVM_EPOCH_H__
#define __HA_LAVM_EPOCH_H__

#include "lavm.h"

size_t lavm_epoch_mem_size_avx2(const struct lavm_prog *prog, uint32_t nvms);
int lavm_epoch_setup_avx2(struct lavm_epoch *eng, struct lavm_job *job,
			  void *mem, size_t len);
void lavm_epoch_load_avx2(struct lavm_epoch *eng, uint32_t b0, uint32_t b1);
void lavm_epoch_run_blocks_avx2(struct lavm_epoch *eng, uint32_t b0, uint32_t b1);
void lavm_epoch_min_io_avx2(struct lavm_epoch *eng, uint32_t b0, uint32_t b1,
			    struct lavm_epoch_wait *w);
bool lavm_epoch_io_avx2(struct lavm_epoch *eng, const struct lavm_epoch_wait *w);
uint32_t lavm_epoch_finish_avx2(struct lavm_epoch *eng, uint32_t b0, uint32_t b1);
uint32_t lavm_epoch_run_avx2(struct lavm_epoch *eng);
uint32_t lavm_epoch_most_avx2(struct lavm_epoch *eng, uint32_t b0, uint32_t b1,
			      uint64_t *sum);
void lavm_epoch_extend_avx2(struct lavm_epoch *eng, uint32_t b0, uint32_t b1,
			    uint32_t old_max);

#endif /* __HA_LAVM_EPOCH_H__ */
