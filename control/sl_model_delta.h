/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_model_delta.h: what one incremental change did to a model.
 *
 * The controller's fast path (sl_controller.h) applies a change to one
 * child of a load balancer -- a backend pool or a load-balancing rule,
 * created, replaced or deleted -- to the committed model in place
 * (sl_config_incr.h) and describes it here, so the compilation that
 * follows rebuilds only what the change touched (sl_compile.h). A NULL
 * delta means "anything may have changed": compile whole.
 */
#ifndef SL_MODEL_DELTA_H
#define SL_MODEL_DELTA_H

#include <stdint.h>

enum sl_delta_kind {
	SL_DELTA_POOL = 0, /* lb->pools[idx] */
	SL_DELTA_RULE,     /* lb->rules[idx] */
};

enum sl_delta_op {
	SL_DELTA_REPLACE = 0, /* the child at idx was replaced (same name, same index) */
	SL_DELTA_CREATE,      /* a new child was appended: idx is the last index */
	SL_DELTA_DELETE,      /* the child that was at idx is gone; those after it moved down one */
};

struct sl_model_delta {
	enum sl_delta_kind kind;
	enum sl_delta_op op;
	uint32_t lb;  /* index into model->lbs (unchanged by the change) */
	uint32_t idx; /* index into that load balancer's pools or rules, see enum sl_delta_op */
};

#endif /* SL_MODEL_DELTA_H */
