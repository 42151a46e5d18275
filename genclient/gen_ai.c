// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include "gen_internal.h"
int gen_run_ai(struct gen_ctx *ctx) { (void)ctx; return -ESRCH; }
