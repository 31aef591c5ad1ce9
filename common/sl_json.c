/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_json.c: file reading, JSON parsing with positioned errors, and the
 * typed readers of object members (see sl_json.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_json.h"

static char *
sl_file_fail(const char *path, const char *code, struct sl_error *err, int errnum,
	     const char *why)
{
	sl_error_set(err, code, path, "", "Cannot read '%s': %s.", path, why);
	if (err != NULL)
		snprintf(err->file, sizeof(err->file), "%s", path);
	errno = errnum;
	return NULL;
}

char *
sl_file_read(const char *path, size_t max, size_t *len, const char *unreadable_code,
	     struct sl_error *err)
{
	char too_big[64];
	struct stat st;
	size_t cap, n_read = 0;
	char *buf, *nb;
	ssize_t n;
	int fd, errnum;

	snprintf(too_big, sizeof(too_big), "larger than %zu bytes", max);
	if (path == NULL)
		return sl_file_fail("", unreadable_code, err, EINVAL, "no file name");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_file_fail(path, unreadable_code, err, errno, strerror(errno));
	if (fstat(fd, &st) < 0) {
		errnum = errno;
		close(fd);
		return sl_file_fail(path, unreadable_code, err, errnum, strerror(errnum));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return sl_file_fail(path, unreadable_code, err, EINVAL, "not a regular file");
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return sl_file_fail(path, unreadable_code, err, EFBIG, too_big);
	}
	/*
	 * The size is a hint: the file may change while it is read. The buffer
	 * keeps its last byte for the NUL and may grow to max + 1 bytes of
	 * text, so a file grown past max is noticed.
	 */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (buf == NULL) {
		close(fd);
		return sl_file_fail(path, unreadable_code, err, ENOMEM, "out of memory");
	}
	for (;;) {
		if (n_read == cap - 1) {
			if (n_read > max) {
				free(buf);
				close(fd);
				return sl_file_fail(path, unreadable_code, err, EFBIG, too_big);
			}
			cap = cap * 2 < max + 2 ? cap * 2 : max + 2;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				close(fd);
				return sl_file_fail(path, unreadable_code, err, ENOMEM,
						    "out of memory");
			}
			buf = nb;
		}
		n = read(fd, buf + n_read, cap - 1 - n_read);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errnum = errno;
			free(buf);
			close(fd);
			return sl_file_fail(path, unreadable_code, err, errnum, strerror(errnum));
		}
		if (n == 0)
			break;
		n_read += (size_t)n;
	}
	close(fd);
	if (n_read > max) {
		free(buf);
		return sl_file_fail(path, unreadable_code, err, EFBIG, too_big);
	}
	buf[n_read] = '\0';
	*len = n_read;
	return buf;
}

static void
sl_json_syntax_error(struct sl_error *e, const char *text, size_t len, const char *at,
		     const char *target, const char *what)
{
	size_t off = 0, i, line = 1, col = 1;

	if (at != NULL && at >= text && at <= text + len)
		off = (size_t)(at - text);
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	sl_error_set(e, "InvalidJson", target, "",
		     "Invalid JSON: %s at line %zu, column %zu (byte offset %zu).",
		     off >= len ? "unexpected end of input" : what, line, col, off);
}

static int
sl_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
sl_file_write_atomic(const char *path, const char *data, size_t len, unsigned int mode,
		     const char **step)
{
	char tmp[4200], dir[4096];
	const char *dummy;
	char *slash;
	int fd, dfd, rc;

	if (step == NULL)
		step = &dummy;
	*step = "open";
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return -errno;
	*step = "write";
	rc = sl_write_all(fd, data, len);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0) {
		*step = "rename";
		rc = -errno;
	}
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	/* The rename is durable once the directory is. */
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	*step = "open directory";
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	*step = "fsync directory";
	rc = fsync(dfd) != 0 ? -errno : 0;
	close(dfd);
	return rc;
}

/*
 * The first flaw cJSON lets through in the strings of parsed text: a raw
 * control character (JSON wants them escaped) or an escaped NUL (\u0000,
 * which would end the C string there: "a\u0000b" would read as "a").
 * NULL when none; *what says which.
 */
static const char *
sl_json_string_flaw(const char *text, size_t len, const char **what)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '"') {
			in_string = !in_string;
		} else if (in_string && c < 0x20) {
			*what = "a control character in a string (escape it)";
			return text + i;
		} else if (in_string && c == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0) {
				*what = "\\u0000 in a string";
				return text + i;
			}
			i++;
		}
	}
	return NULL;
}

cJSON *
sl_json_parse(const char *text, size_t len, const char *target, struct sl_error *err)
{
	const char *flaw, *what;
	const char *end = NULL;
	cJSON *root;

	if (text == NULL) {
		sl_error_set(err, "InvalidJson", target, "", "No JSON text.");
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		if (end == NULL)
			end = cJSON_GetErrorPtr();
		sl_json_syntax_error(err, text, len, end, target, "syntax error");
		return NULL;
	}
	if (end != NULL) {
		while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' ||
					    *end == '\r'))
			end++;
		if (end < text + len) {
			cJSON_Delete(root);
			sl_json_syntax_error(err, text, len, end, target,
					     "unexpected data after the JSON value");
			return NULL;
		}
	}
	flaw = sl_json_string_flaw(text, len, &what);
	if (flaw != NULL) {
		cJSON_Delete(root);
		sl_json_syntax_error(err, text, len, flaw, target, what);
		return NULL;
	}
	return root;
}

/* --- the typed reader kit -------------------------------------------------- */

void
sl_json_path_key(char *buf, const char *parent, const char *key)
{
	snprintf(buf, SL_JSON_PATH_MAX, "%s.%s", parent, key);
}

void
sl_json_path_index(char *buf, const char *parent, uint32_t i)
{
	snprintf(buf, SL_JSON_PATH_MAX, "%s[%u]", parent, i);
}

void
sl_json_target_join(char *buf, const char *parent, const char *coll, const char *name)
{
	if (parent != NULL && name != NULL)
		snprintf(buf, SL_JSON_TARGET_MAX, "%s/%s/%s", parent, coll, name);
	else if (parent != NULL)
		snprintf(buf, SL_JSON_TARGET_MAX, "%s/%s", parent, coll);
	else if (name != NULL)
		snprintf(buf, SL_JSON_TARGET_MAX, "%s/%s", coll, name);
	else
		snprintf(buf, SL_JSON_TARGET_MAX, "%s", coll);
}

const char *
sl_json_type_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "not a JSON value";
}

int
sl_json_nomem(struct sl_error *err, const char *target, const char *path)
{
	sl_error_set(err, "OutOfMemory", target, path, "Out of memory while reading JSON.");
	return -ENOMEM;
}

cJSON *
sl_json_arm_error(const char *code, const char *message, const char *target,
		  const char *json_path)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddStringToObject(e, "target", target);
	if (json_path != NULL && json_path[0] != '\0')
		cJSON_AddStringToObject(e, "jsonPath", json_path);
	return e;
}

const cJSON *
sl_json_member(const cJSON *obj, const char *key)
{
	const cJSON *v;

	if (!cJSON_IsObject(obj))
		return NULL;
	v = cJSON_GetObjectItem(obj, key);
	return cJSON_IsNull(v) ? NULL : v;
}

const char *
sl_json_member_string(const cJSON *obj, const char *key)
{
	const cJSON *v = sl_json_member(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *
sl_json_member_array(const cJSON *obj, const char *key)
{
	const cJSON *v = sl_json_member(obj, key);

	return cJSON_IsArray(v) ? v : NULL;
}

/* What sl_first_repeat() sorts by: the elements, then their index. */
struct sl_repeat_order {
	const char *base;
	size_t stride;
	int (*cmp)(const void *a, const void *b);
};

static int
sl_cmp_repeat(const void *pa, const void *pb, void *arg)
{
	const struct sl_repeat_order *o = arg;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	int c = o->cmp(o->base + a * o->stride, o->base + b * o->stride);

	if (c != 0)
		return c;
	return a < b ? -1 : a > b;
}

int64_t
sl_first_repeat(const void *base, size_t stride, uint32_t n,
		int (*cmp)(const void *a, const void *b))
{
	struct sl_repeat_order o = {base, stride, cmp};
	int64_t best = -1;
	uint32_t *idx, i;

	if (n < 2)
		return -1;
	idx = malloc(n * sizeof(*idx));
	if (idx == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), sl_cmp_repeat, &o);
	/* In each run of equal elements every one after the first repeats it. */
	for (i = 1; i < n; i++) {
		if (cmp(o.base + idx[i - 1] * stride, o.base + idx[i] * stride) == 0 &&
		    (best < 0 || idx[i] < best))
			best = idx[i];
	}
	free(idx);
	return best;
}

/* Names held in place (a name string first in each element), case-insensitively. */
static int
sl_cmp_name(const void *a, const void *b)
{
	return strcasecmp(a, b);
}

/* Names held by pointer. */
static int
sl_cmp_name_ptr(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

int64_t
sl_json_first_dup_name(const void *base, size_t stride, uint32_t n)
{
	return sl_first_repeat(base, stride, n, sl_cmp_name);
}

int
sl_json_check_object(struct sl_error *err, const cJSON *v, const char *path, const char *target)
{
	const char **names;
	char p[SL_JSON_PATH_MAX];
	const cJSON *c;
	uint32_t n = 0;
	int64_t dup;

	if (!cJSON_IsObject(v))
		return sl_error_set(err, "InvalidRequestFormat", target, path,
				    "Expected an object, not %s.", sl_json_type_name(v));
	for (c = v->child; c != NULL; c = c->next)
		n++;
	if (n < 2)
		return 0;
	names = malloc(n * sizeof(*names));
	if (names == NULL)
		return sl_json_nomem(err, target, path);
	n = 0;
	for (c = v->child; c != NULL; c = c->next)
		names[n++] = c->string;
	dup = sl_first_repeat(names, sizeof(*names), n, sl_cmp_name_ptr);
	free(names);
	if (dup == -ENOMEM)
		return sl_json_nomem(err, target, path);
	if (dup < 0)
		return 0;
	for (c = v->child; dup > 0; dup--)
		c = c->next;
	sl_json_path_key(p, path, c->string);
	return sl_error_set(err, "InvalidRequestFormat", target, p,
			    "Property '%s' appears more than once (names are case-insensitive).",
			    c->string);
}

const cJSON *
sl_where_member(const struct sl_where *w, const char *key)
{
	return w->obj != NULL ? sl_json_member(w->obj, key) : NULL;
}

int
sl_where_missing(const struct sl_where *w, const char *key)
{
	char p[SL_JSON_PATH_MAX];

	sl_json_path_key(p, w->path, key);
	return sl_error_set(w->err, "MissingRequiredProperty", w->target, p,
			    "Property '%s' is required.", key);
}

/* The code of a malformed value: w's own when it has one. */
static const char *
sl_where_code(const struct sl_where *w, const char *code)
{
	return w->value_code != NULL ? w->value_code : code;
}

int
sl_where_type_error(const struct sl_where *w, const char *key, const cJSON *v, const char *want)
{
	char p[SL_JSON_PATH_MAX];

	sl_json_path_key(p, w->path, key);
	return sl_error_set(w->err, sl_where_code(w, "InvalidRequestFormat"), w->target, p,
			    "Property '%s' must be %s, not %s.", key, want, sl_json_type_name(v));
}

int
sl_where_known(const struct sl_where *w, const char *const *known)
{
	const cJSON *c;

	for (c = w->obj != NULL ? w->obj->child : NULL; c != NULL; c = c->next) {
		const char *const *k;
		char p[SL_JSON_PATH_MAX];

		for (k = known; *k != NULL; k++) {
			if (strcasecmp(*k, c->string) == 0)
				break;
		}
		if (*k != NULL)
			continue;
		sl_json_path_key(p, w->path, c->string);
		return sl_error_set(w->err, "UnknownProperty", w->target, p,
				    "Unknown property '%s'.", c->string);
	}
	return 0;
}

int
sl_where_object(const struct sl_where *w, const char *key, bool required, struct sl_where *out,
		char *pathbuf)
{
	const cJSON *v = sl_where_member(w, key);
	int rc;

	sl_json_path_key(pathbuf, w->path, key);
	*out = *w;
	out->path = pathbuf;
	out->obj = NULL;
	if (v == NULL)
		return required ? sl_where_missing(w, key) : 0;
	if (!cJSON_IsObject(v))
		return sl_error_set(w->err, sl_where_code(w, "InvalidRequestFormat"), w->target,
				    pathbuf, "Expected an object, not %s.", sl_json_type_name(v));
	rc = sl_json_check_object(w->err, v, pathbuf, w->target);
	if (rc < 0)
		return rc;
	out->obj = v;
	return 1;
}

int
sl_where_array(const struct sl_where *w, const char *key, bool required, const cJSON **out,
	       char *pathbuf)
{
	const cJSON *v = sl_where_member(w, key);

	sl_json_path_key(pathbuf, w->path, key);
	*out = NULL;
	if (v == NULL)
		return required ? sl_where_missing(w, key) : 0;
	if (!cJSON_IsArray(v))
		return sl_where_type_error(w, key, v, "an array");
	*out = v;
	return 1;
}

int
sl_where_string(const struct sl_where *w, const char *key, bool required, const char **out)
{
	const cJSON *v = sl_where_member(w, key);

	*out = NULL;
	if (v == NULL)
		return required ? sl_where_missing(w, key) : 0;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return sl_where_type_error(w, key, v, "a string");
	*out = v->valuestring;
	return 1;
}

int
sl_where_bool(const struct sl_where *w, const char *key, uint8_t *out)
{
	const cJSON *v = sl_where_member(w, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return sl_where_type_error(w, key, v, "a boolean (true or false)");
	*out = cJSON_IsTrue(v) ? 1 : 0;
	return 1;
}

int
sl_where_int(const struct sl_where *w, const char *key, bool required, int64_t min, int64_t max,
	     int64_t *out)
{
	const cJSON *v = sl_where_member(w, key);
	char p[SL_JSON_PATH_MAX];
	double d;

	if (v == NULL)
		return required ? sl_where_missing(w, key) : 0;
	if (!cJSON_IsNumber(v))
		return sl_where_type_error(w, key, v, "an integer");
	sl_json_path_key(p, w->path, key);
	d = v->valuedouble;
	if (d > -9.0e18 && d < 9.0e18 && d != (double)(int64_t)d)
		return sl_error_set(w->err, sl_where_code(w, "InvalidRequestFormat"), w->target, p,
				    "Property '%s' must be an integer, not %.17g.", key, d);
	/* The casts only run on values inside the int64_t range (NaN fails both tests). */
	if (!(d > -9.0e18 && d < 9.0e18) || (int64_t)d < min || (int64_t)d > max)
		return sl_error_set(w->err, sl_where_code(w, "PropertyValueOutOfRange"), w->target,
				    p, "Property '%s' is %.17g; it must be between %lld and %lld.",
				    key, d, (long long)min, (long long)max);
	*out = (int64_t)d;
	return 1;
}

int
sl_where_ip(const struct sl_where *w, const char *key, bool required, struct sl_ip_addr *a,
	    uint8_t *family)
{
	enum sl_ip_family f = SL_AF_NONE;
	char p[SL_JSON_PATH_MAX];
	const char *s;
	int rc;

	rc = sl_where_string(w, key, required, &s);
	if (rc <= 0)
		return rc;
	if (sl_ip_addr_parse(s, a, &f) < 0) {
		sl_json_path_key(p, w->path, key);
		return sl_error_set(w->err, "InvalidIPAddress", w->target, p,
				    "'%s' is not an IPv4 or IPv6 address.", s);
	}
	*family = (uint8_t)f;
	return 1;
}

int
sl_json_parse_list(struct sl_error *err, const cJSON *arr, const char *path,
		   const char *parent_target, const char *coll, size_t item_size, void **items,
		   uint32_t *n,
		   int (*parse)(void *ctx, void *item, uint32_t i, const cJSON *el,
				const char *el_path),
		   void *ctx)
{
	char el_path[SL_JSON_PATH_MAX], name_path[SL_JSON_PATH_MAX], target[SL_JSON_TARGET_MAX];
	uint32_t count = arr != NULL ? (uint32_t)cJSON_GetArraySize(arr) : 0, i = 0;
	const cJSON *el;
	const char *name;
	int64_t dup;
	int rc;

	*items = calloc(count == 0 ? 1 : count, item_size);
	if (*items == NULL)
		return sl_json_nomem(err, parent_target != NULL ? parent_target : coll, path);
	*n = count;
	cJSON_ArrayForEach(el, arr) {
		sl_json_path_index(el_path, path, i);
		rc = parse(ctx, (char *)*items + i * item_size, i, el, el_path);
		if (rc < 0)
			return rc;
		i++;
	}
	if (coll == NULL)
		return 0;
	dup = sl_json_first_dup_name(*items, item_size, count);
	if (dup == -ENOMEM)
		return sl_json_nomem(err, parent_target, path);
	if (dup < 0)
		return 0;
	name = (const char *)*items + (size_t)dup * item_size;
	sl_json_path_index(el_path, path, (uint32_t)dup);
	sl_json_path_key(name_path, el_path, "name");
	sl_json_target_join(target, parent_target, coll, name);
	return sl_error_set(err, "DuplicateResourceName", target, name_path,
			    "Two %s are named '%s'; names are unique (case-insensitively) within a collection.",
			    coll, name);
}
