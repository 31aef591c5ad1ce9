/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_store_internal.h: the store's state and the helpers that
 * sl_store.c (writing) and sl_store_recover.c (start) share.
 */
#ifndef SL_STORE_INTERNAL_H
#define SL_STORE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_store.h"

#define SL_STORE_GENERATION "generation"
#define SL_STORE_JOURNAL "journal"
#define SL_STORE_LEGACY "state.json"
#define SL_STORE_GEN_MAGIC "sluice-generation"
#define SL_STORE_JOURNAL_MAGIC "sluice-journal"
#define SL_STORE_LEGACY_MAGIC "sluice-state"
#define SL_STORE_LEGACY_VERSION 1
#define SL_STORE_MAX_BYTES (256u << 20) /* a generation or a journal read at start */
#define SL_STORE_PATH_MAX 4200

struct sl_store {
	char *dir;
	uint64_t gen;           /* the current generation (0: state.json) */
	uint64_t next_gen;      /* above every number DIR has held */
	uint64_t seq;           /* the last durable change's sequence number */
	uint64_t gen_bytes;     /* the current generation's JSON */
	uint64_t records;       /* journal records since the generation */
	uint64_t journal_bytes; /* their bytes */
	uint64_t journal_end;   /* the journal's size, header included */
	int jfd;                /* the current journal, O_APPEND; -1 none */
	bool refused;           /* appends refused until the next checkpoint */
	bool damaged;           /* recovery found damage; cleared by a checkpoint */
	uint64_t good[SL_STORE_KEEP]; /* generations known to load, oldest first */
	uint32_t n_good;
	cJSON *recovery;        /* what sl_store_open() found (status "recovery") */
};

/* CRC32-C as the files carry it. */
uint32_t sl_store_crc(const char *data, size_t len);

/* "<dir>/<kind>-<n, ten digits>" */
void sl_store_path(const struct sl_store *s, const char *kind, uint64_t n, char *buf, size_t len);

/* The number of "<kind>-<digits>" (exact) or "<kind>-<digits>[.anything]"; -1 otherwise. */
int64_t sl_store_name_number(const char *name, const char *kind, bool exact);

/* StateWriteFailed for path at step; returns rc. */
int sl_store_write_fail(struct sl_error *err, const char *path, int rc, const char *step);

/* Create journal-n with its header (seq: generation n's) and append to it from now on. */
int sl_store_start_journal(struct sl_store *s, uint64_t n, uint64_t seq, struct sl_error *err);

/* n loads: remember it, and prune what is older than the SL_STORE_KEEP newest known. */
void sl_store_note_good(struct sl_store *s, uint64_t n);

#endif /* SL_STORE_INTERNAL_H */
