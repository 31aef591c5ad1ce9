/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_state.c: atomic, checksummed persistence of the desired state
 * (see sl_state.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_hash.h"
#include "sl_json.h"
#include "sl_state.h"

#define SL_STATE_FILE "state.json"
#define SL_STATE_MAGIC "sluice-state"
#define SL_STATE_VERSION 1
#define SL_STATE_MAX_BYTES (256u << 20)

static uint32_t
sl_state_crc(const char *text, size_t len)
{
	return sl_crc32c(text, len, 0xffffffffu) ^ 0xffffffffu;
}

static int
sl_save_fail(struct sl_error *err, const char *path, int rc, const char *step)
{
	sl_error_set(err, "StateWriteFailed", path, "",
		     "Cannot persist the configuration to '%s' (%s: %s); the change is not applied.",
		     path, step, strerror(-rc));
	return rc;
}

int
sl_state_save(const char *dir, const cJSON *doc, struct sl_error *err)
{
	char path[4096], header[96];
	char *text = cJSON_PrintUnformatted(doc), *file;
	const char *step;
	size_t len, hlen;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, SL_STATE_FILE);
	if (text == NULL)
		return sl_save_fail(err, path, -ENOMEM, "serialise");
	len = strlen(text);
	hlen = (size_t)snprintf(header, sizeof(header), "%s %d %zu %08" PRIx32 "\n",
				SL_STATE_MAGIC, SL_STATE_VERSION, len, sl_state_crc(text, len));
	file = malloc(hlen + len);
	if (file == NULL) {
		cJSON_free(text);
		return sl_save_fail(err, path, -ENOMEM, "serialise");
	}
	memcpy(file, header, hlen);
	memcpy(file + hlen, text, len);
	cJSON_free(text);
	rc = sl_file_write_atomic(path, file, hlen + len, 0600, &step);
	free(file);
	return rc != 0 ? sl_save_fail(err, path, rc, step) : 0;
}

static int
sl_corrupt(struct sl_error *err, const char *path, const char *why)
{
	sl_error_set(err, "StateFileCorrupt", path, "",
		     "The state file '%s' is corrupt (%s); nothing of it is applied. Move it "
		     "away to start from the configuration file alone.", path, why);
	if (err != NULL)
		snprintf(err->file, sizeof(err->file), "%s", path);
	return -EBADMSG;
}

int
sl_state_load(const char *dir, cJSON **doc, struct sl_error *err)
{
	char path[4096], magic[16];
	size_t len, body_len;
	unsigned int version;
	uint32_t crc;
	int consumed = 0;
	char *text;

	*doc = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, SL_STATE_FILE);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	text = sl_file_read(path, SL_STATE_MAX_BYTES, &len, "StateFileUnreadable", err);
	if (text == NULL)
		return -errno;
	if (sscanf(text, "%15s %u %zu %" SCNx32 "%n", magic, &version, &body_len, &crc,
		   &consumed) != 4 || strcmp(magic, SL_STATE_MAGIC) != 0 ||
	    (size_t)consumed >= len || text[consumed] != '\n') {
		free(text);
		return sl_corrupt(err, path, "no valid header line");
	}
	if (version != SL_STATE_VERSION) {
		free(text);
		return sl_corrupt(err, path, "unknown format version");
	}
	const char *body = text + consumed + 1;
	size_t have = len - (size_t)consumed - 1;
	if (have != body_len) {
		char why[96];
		snprintf(why, sizeof(why), "%zu bytes of JSON where the header says %zu", have,
			 body_len);
		free(text);
		return sl_corrupt(err, path, why);
	}
	if (sl_state_crc(body, body_len) != crc) {
		free(text);
		return sl_corrupt(err, path, "checksum mismatch");
	}
	*doc = sl_json_parse(body, body_len, path, err);
	free(text);
	if (*doc == NULL)
		return sl_corrupt(err, path, "the JSON does not parse");
	return 0;
}
