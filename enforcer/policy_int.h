/* Private to the policy engine: what the loader, the index and the evaluator share. */
#ifndef LDM_POLICY_INT_H
#define LDM_POLICY_INT_H

#include <libconfig.h>

#include "ldm/policy.h"

int ldm_peer_keyword_parse(const char *s, enum ldm_peer_kind *ret);

/* Loader state shared by policy_load.c (files, includes) and policy_settings.c (settings). */
struct loader {
	const struct ldm_load_opts *opts;
	struct ldm_diags *diags;
	struct ldm_policy *p;
	char *top_dir; /* directory of the top file, for includes; may be NULL */
	const char *stack[LDM_MAX_INCLUDE_DEPTH + 1]; /* names being loaded: cycle detection */
	size_t depth;
	char **done; /* names merged already (a diamond include merges once) */
	size_t n_done;
	bool families_set;
	bool write_set;  /* some file set `write` (policy_write.c) */
	bool access_set; /* the top file set `users` or `groups` (policy_access.c) */
	bool too_many_rules;
	unsigned errors;
	struct ldm_policy_file *files; /* moved to p once the policy is whole */
	size_t n_files;
};

/* An `include` entry waiting to be loaded once its file is read. */
struct include_ref {
	char *name;
	unsigned line;
};

#define LINE(s) ((unsigned)config_setting_source_line(s))

/* policy_loader.c, used by every part of the loader: */

/* Reports a problem at FILE:LINE (line 0: the whole file) and counts it. */
void ldm_loader_error(struct loader *l, const char *file, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/*
 * Appends a copy of ITEM (value, comment; file and line set from FILE and LINE) to the
 * policy's launcher items. Reports and returns -E2BIG past LDM_CTL_ITEMS_MAX, or -ENOMEM.
 */
int ldm_loader_add_item(struct loader *l, const char *file, unsigned line,
                        const struct ldm_item *item);
/* The string S, or NULL after reporting S is no string of at most MAX bytes. */
const char *ldm_loader_get_string(struct loader *l, const char *file, const config_setting_t *s,
                                  const char *what, size_t max);
/* "a string" / "a list": what kind of value S is, for messages. */
const char *ldm_setting_type_name(const config_setting_t *s);

/* policy_settings.c: reads one parsed file's settings into l->p; appends its includes to
 * *includes. */
void ldm_loader_read_settings(struct loader *l, const config_t *cfg, const char *file, bool top,
                              struct include_ref **includes, size_t *n_includes);

/* Reads the list S of allow or deny rules (rule_parse.c). */
void ldm_loader_read_rules(struct loader *l, const char *file, const config_setting_t *s,
                           enum ldm_action action);
/* Adds an LDM_ITEM_UNIX item for each unix rule, in rule order (rule_parse.c). */
void ldm_loader_unix_items(struct loader *l);
/* Reads one `proto = "dbus"` rule G (rule_dbus.c). */
void ldm_loader_read_dbus_rule(struct loader *l, const char *file, const config_setting_t *g,
                               enum ldm_action action);

/* A hint for libconfig's message MSG about LINE of BUF (policy_syntax.c): "" or text that
 * starts with "; " or " at ", to append to the message. */
void ldm_syntax_hint(const char *buf, unsigned line, const char *msg, char *out, size_t size);

/* The `users` and `groups` settings (policy_access.c): the top file's only. */
void ldm_loader_read_access(struct loader *l, const char *file, const config_setting_t *s,
                            bool top);

/* The `write` setting (policy_write.c); _finish adds the default scope when no file set it. */
void ldm_loader_read_write(struct loader *l, const char *file, const config_setting_t *s);
int ldm_loader_write_finish(struct loader *l);

int ldm_policy_index_build(struct ldm_policy *p);
void ldm_policy_index_free(struct ldm_policy_index *ix);

#endif
