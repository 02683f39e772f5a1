/* The policy object's life and its rules' text form. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/util.h"
#include "policy_int.h"

struct ldm_policy *
ldm_policy_free(struct ldm_policy *p)
{
	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < p->n_rules; i++) {
		free(p->rules[i].host);
		free(p->rules[i].path);
		free(p->rules[i].ports);
		free(p->rules[i].comment);
		free(p->rules[i].file);
	}
	free(p->rules);
	for (size_t i = 0; i < p->n_dns_allow; i++)
		free(p->dns_allow[i]);
	free(p->dns_allow);
	for (size_t i = 0; i < p->n_known; i++) {
		free(p->known[i].host);
		free(p->known[i].label);
	}
	free(p->known);
	for (size_t i = 0; i < p->n_deny_syscalls; i++)
		free(p->deny_syscall_names[i]);
	free(p->deny_syscall_names);
	free(p->deny_syscalls);
	for (size_t i = 0; i < p->n_users; i++)
		free(p->users[i]);
	free(p->users);
	for (size_t i = 0; i < p->n_groups; i++)
		free(p->groups[i]);
	free(p->groups);
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i].path);
	free(p->files);
	for (size_t i = 0; i < p->n_items; i++) {
		free(p->items[i].value);
		free(p->items[i].comment);
		free(p->items[i].file);
	}
	free(p->items);
	ldm_policy_index_free(p->index);
	free(p->name);
	free(p->description);
	free(p);
	return NULL;
}

/* Appends printf output to BUF at *pos; -ENAMETOOLONG once it no longer fits. */
static int __attribute__((format(printf, 4, 5)))
append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= size)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *pos)
		return -ENAMETOOLONG;
	*pos += (size_t)n;
	return 0;
}

static int
format_peer(const struct ldm_rule *r, char *buf, size_t size, size_t *pos)
{
	char a[64];

	switch (r->peer) {
	case LDM_PEER_CIDR:
		if (ldm_prefix_format(&r->prefix, a, sizeof(a)) < 0)
			return -EINVAL;
		return append(buf, size, pos, " %s%s", r->dir == LDM_DIR_IN ? "from " : "", a);
	case LDM_PEER_HOST:
		return append(buf, size, pos, " host %s", r->host);
	case LDM_PEER_UNIX:
		return append(buf, size, pos, " %s", r->path);
	default:
		return append(buf, size, pos, " %s%s", r->dir == LDM_DIR_IN ? "from " : "",
		              ldm_peer_kind_name(r->peer));
	}
}

int
ldm_rule_format(const struct ldm_rule *r, char *buf, size_t size)
{
	size_t pos = 0;
	int rc;

	rc = append(buf, size, &pos, "%s", ldm_proto_name(r->proto));
	if (rc == 0)
		rc = format_peer(r, buf, size, &pos);
	for (size_t i = 0; rc == 0 && i < r->n_ports; i++) {
		const struct ldm_port_range *pr = &r->ports[i];
		const char *sep = i == 0 ? " " : ",";

		if (pr->lo == pr->hi)
			rc = append(buf, size, &pos, "%s%u", sep, pr->lo);
		else
			rc = append(buf, size, &pos, "%s%u-%u", sep, pr->lo, pr->hi);
	}
	return rc;
}
