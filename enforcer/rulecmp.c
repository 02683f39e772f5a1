/*
 * Rule-by-rule comparison of committed and saved ruleset texts (rulecmp.h). Each "-A LDM-"
 * line becomes a canonical string: "table chain | sorted address part | sorted matches
 * (each with its sorted options) | target with its sorted options". The kernel's order of
 * rules within a chain is kept; chains are compared as wholes, whatever order iptables-save
 * lists them in.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/util.h"
#include "rulecmp.h"

#define MAX_TOKENS 128
#define MAX_GROUPS 32
#define MAX_LINE   4096

struct rule {
	char *key;   /* "table chain": what is compared as one sequence */
	char *canon; /* the normalised rule */
	size_t seq;  /* its position in the text, to keep the order within a chain */
};

struct rules {
	struct rule *v;
	size_t n, cap;
};

static void
rules_free(struct rules *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].key);
		free(r->v[i].canon);
	}
	free(r->v);
	*r = (struct rules){ 0 };
}

/* Splits S (a copy, modified) at blanks; double quotes group, a backslash escapes. */
static size_t
tokenize(char *s, char **tok, size_t max)
{
	size_t n = 0;
	char *w = s;

	while (*s != '\0') {
		bool quoted = false;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (n == max)
			return SIZE_MAX;
		tok[n++] = w;
		while (*s != '\0' && (quoted || (*s != ' ' && *s != '\t'))) {
			if (*s == '"') {
				quoted = !quoted;
				s++;
				continue;
			}
			if (*s == '\\' && s[1] != '\0')
				s++;
			*w++ = *s++;
		}
		if (*s != '\0')
			s++;
		*w++ = '\0';
	}
	return n;
}

/* Hex numbers lose their leading zeros and case, each side of a '/'. */
static void
norm_value(const char *in, char *out, size_t size)
{
	size_t o = 0;

	while (*in != '\0' && o + 1 < size) {
		if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) {
			bool any = false;

			in += 2;
			out[o++] = '0';
			if (o + 1 < size)
				out[o++] = 'x';
			while (*in == '0' && in[1] != '\0' && in[1] != '/')
				in++;
			while (*in != '\0' && *in != '/' && o + 1 < size) {
				char ch = *in++;

				out[o++] = (char)(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
				any = true;
			}
			if (!any && o + 1 < size)
				out[o++] = '0';
			continue;
		}
		out[o++] = *in++;
	}
	out[o] = '\0';
}

static bool
is_header_opt(const char *t)
{
	return strcmp(t, "-s") == 0 || strcmp(t, "-d") == 0 || strcmp(t, "-i") == 0 ||
	       strcmp(t, "-o") == 0 || strcmp(t, "-p") == 0;
}

static bool
is_value(const char *t)
{
	return t[0] != '-' || t[1] == '\0' || (t[1] >= '0' && t[1] <= '9');
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A growing string; ERR sticks. */
struct buf {
	char s[MAX_LINE];
	size_t len;
	bool err;
};

static void
add(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->err || b->len + n + 1 > sizeof(b->s)) {
		b->err = true;
		return;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* One group: its head ("-m conntrack", "-j MARK", "-d") and options, each option with its
 * values and negation; the options sorted. */
struct group {
	char head[64];
	char *opts[MAX_TOKENS];
	size_t n_opts;
	bool target, header;
};

static int
group_text(struct group *g, char **ret)
{
	struct buf b = { .len = 0 };

	if (g->n_opts > 0)
		qsort(g->opts, g->n_opts, sizeof(g->opts[0]), cmp_str);
	add(&b, g->head);
	for (size_t i = 0; i < g->n_opts; i++) {
		add(&b, " ");
		add(&b, g->opts[i]);
	}
	if (b.err)
		return -EINVAL;
	*ret = strdup(b.s);
	return *ret == NULL ? -ENOMEM : 0;
}

/* Did snprintf's result R fit a buffer of SIZE bytes? A cut text is not the rule's text. */
static bool
fits(int r, size_t size)
{
	return r >= 0 && (size_t)r < size;
}

/* The address part's value: single addresses get their /32 or /128. False if cut. */
static bool
header_value(const char *opt, const char *v, char *out, size_t size)
{
	if ((strcmp(opt, "-s") == 0 || strcmp(opt, "-d") == 0) && strchr(v, '/') == NULL)
		return fits(snprintf(out, size, "%s/%s", v, strchr(v, ':') != NULL ? "128" : "32"),
		            size);
	return fits(snprintf(out, size, "%s", v), size);
}

/* The canonical text of the rule tokens TOK[0..N) (after "-A CHAIN"). */
static int
canonical(char **tok, size_t n, struct buf *out)
{
	struct group g[MAX_GROUPS];
	char *texts[MAX_GROUPS] = { 0 };
	char opt_store[MAX_TOKENS][256];
	size_t n_g = 0, n_store = 0, i = 0, n_texts = 0;
	struct group *cur = NULL;
	const char *proto = NULL;
	int rc = 0;

	while (i < n && rc == 0) {
		bool neg = false;
		char val[256] = "", item[256];

		if (strcmp(tok[i], "!") == 0) {
			neg = true;
			i++;
			if (i == n)
				return -EINVAL;
		}
		if (n_g == MAX_GROUPS || n_store == MAX_TOKENS)
			return -EINVAL;
		if (is_header_opt(tok[i])) {
			if (i + 1 >= n)
				return -EINVAL;
			if (!header_value(tok[i], tok[i + 1], val, sizeof(val)))
				return -EINVAL;
			if (strcmp(tok[i], "-p") == 0)
				proto = tok[i + 1];
			g[n_g] = (struct group){ .header = true };
			if (!fits(snprintf(g[n_g].head, sizeof(g[n_g].head), "%s%s %s",
			                   neg ? "! " : "", tok[i], val),
			          sizeof(g[n_g].head)))
				return -EINVAL;
			n_g++;
			cur = NULL;
			i += 2;
			continue;
		}
		if ((strcmp(tok[i], "-m") == 0 || strcmp(tok[i], "-j") == 0) && !neg) {
			if (i + 1 >= n)
				return -EINVAL;
			g[n_g] = (struct group){ .target = tok[i][1] == 'j' };
			if (!fits(snprintf(g[n_g].head, sizeof(g[n_g].head), "%s %s", tok[i],
			                   tok[i + 1]),
			          sizeof(g[n_g].head)))
				return -EINVAL;
			cur = &g[n_g++];
			i += 2;
			continue;
		}
		if (tok[i][0] != '-' || tok[i][1] != '-')
			return -EINVAL; /* a value with no option */
		if (cur == NULL) {
			/* An option of the protocol's own match (-p udp --dport 53). */
			if (proto == NULL)
				return -EINVAL;
			g[n_g] = (struct group){ .target = false };
			if (!fits(snprintf(g[n_g].head, sizeof(g[n_g].head), "-m %s", proto),
			          sizeof(g[n_g].head)))
				return -EINVAL;
			cur = &g[n_g++];
		}
		if (!fits(snprintf(item, sizeof(item), "%s%s", neg ? "! " : "", tok[i++]),
		          sizeof(item)))
			return -EINVAL;
		while (i < n && is_value(tok[i]) && strcmp(tok[i], "!") != 0) {
			size_t len = strlen(item);

			/* norm_value() adds at most one byte ("0x" becomes "0x0"). */
			if (strlen(tok[i]) + 2 > sizeof(val))
				return -EINVAL;
			norm_value(tok[i++], val, sizeof(val));
			if (!fits(snprintf(item + len, sizeof(item) - len, " %s", val),
			          sizeof(item) - len))
				return -EINVAL;
		}
		memcpy(opt_store[n_store], item, sizeof(item));
		if (cur->n_opts == MAX_TOKENS)
			return -EINVAL;
		cur->opts[cur->n_opts++] = opt_store[n_store++];
	}
	/* The protocol's own match with no options is what iptables-save adds: dropped. The
	 * target goes last; the rest is sorted. */
	for (size_t k = 0; k < n_g && rc == 0; k++) {
		if (!g[k].header && !g[k].target && g[k].n_opts == 0 && proto != NULL &&
		    strncmp(g[k].head, "-m ", 3) == 0 && strcmp(g[k].head + 3, proto) == 0)
			continue;
		if (g[k].target)
			continue;
		rc = group_text(&g[k], &texts[n_texts++]);
	}
	if (rc == 0) {
		if (n_texts > 0)
			qsort(texts, n_texts, sizeof(texts[0]), cmp_str);
		for (size_t k = 0; k < n_texts; k++) {
			add(out, " ");
			add(out, texts[k]);
		}
		for (size_t k = 0; k < n_g && rc == 0; k++) {
			char *t = NULL;

			if (!g[k].target)
				continue;
			rc = group_text(&g[k], &t);
			if (rc == 0) {
				add(out, " ");
				add(out, t);
			}
			free(t);
		}
	}
	for (size_t k = 0; k < n_texts; k++)
		free(texts[k]);
	if (rc == 0 && out->err)
		rc = -EINVAL;
	return rc;
}

/* Adds the rule of LINE (a "-A LDM-..." line of TABLE) to R. */
static int
add_rule(struct rules *r, const char *table, const char *line, size_t len)
{
	char copy[MAX_LINE], *tok[MAX_TOKENS];
	struct buf canon = { .len = 0 };
	struct rule e = { .seq = r->n };
	size_t n;
	int rc;

	if (len >= sizeof(copy))
		return -EINVAL;
	memcpy(copy, line, len);
	copy[len] = '\0';
	n = tokenize(copy, tok, ELEMENTSOF(tok));
	if (n == SIZE_MAX || n < 2)
		return -EINVAL;
	rc = canonical(tok + 2, n - 2, &canon);
	if (rc < 0) {
		/* Not a rule we could have written: kept whole (blanks squeezed), so that it
		 * differs from every rule of ours. */
		canon = (struct buf){ .len = 0 };
		add(&canon, " ?");
		for (size_t k = 1; k < n; k++) {
			add(&canon, " ");
			add(&canon, tok[k]);
		}
		if (canon.err)
			return -EINVAL;
	}
	if (asprintf(&e.key, "%s %s", table, tok[1]) < 0) {
		e.key = NULL;
		return -ENOMEM;
	}
	e.canon = strdup(canon.s);
	if (e.canon == NULL ||
	    (r->n == r->cap && (r->cap = r->cap ? r->cap * 2 : 64,
	                        r->v = reallocarray(r->v, r->cap, sizeof(*r->v))) == NULL)) {
		free(e.key);
		free(e.canon);
		return -ENOMEM;
	}
	r->v[r->n++] = e;
	return 0;
}

static int
collect(const char *text, struct rules *r)
{
	char table[32] = "";

	for (const char *s = text; *s != '\0';) {
		size_t len = strcspn(s, "\n");
		const char *p = s;
		int rc = 0;

		if (*p == '[') { /* iptables-save -c: counters first */
			const char *end = memchr(p, ']', len);

			p = end != NULL ? end + 1 : p;
			while (p < s + len && *p == ' ')
				p++;
		}
		if (*s == '*' && len - 1 < sizeof(table)) {
			memcpy(table, s + 1, len - 1);
			table[len - 1] = '\0';
		} else if ((size_t)(s + len - p) > 7 && strncmp(p, "-A LDM-", 7) == 0) {
			rc = add_rule(r, table, p, (size_t)(s + len - p));
		}
		if (rc < 0)
			return rc;
		s += len;
		if (*s == '\n')
			s++;
	}
	return 0;
}

static int
cmp_rule(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* A rule's canonical text without its leading blank (empty for a rule of no words). */
static const char *
shown(const struct rule *r)
{
	return r->canon[0] == ' ' ? r->canon + 1 : r->canon;
}

int
ldm_rules_compare(const char *committed, const char *saved, char *diff, size_t diff_size)
{
	struct rules a = { 0 }, b = { 0 };
	int rc;

	if (diff != NULL && diff_size > 0)
		diff[0] = '\0';
	if (committed == NULL || saved == NULL)
		return -EINVAL;
	rc = collect(committed, &a);
	if (rc == 0)
		rc = collect(saved, &b);
	if (rc < 0)
		goto out;
	if (a.n > 0)
		qsort(a.v, a.n, sizeof(*a.v), cmp_rule);
	if (b.n > 0)
		qsort(b.v, b.n, sizeof(*b.v), cmp_rule);
	for (size_t i = 0; i < a.n || i < b.n; i++) {
		const struct rule *x = i < a.n ? &a.v[i] : NULL, *y = i < b.n ? &b.v[i] : NULL;

		if (x != NULL && y != NULL && strcmp(x->key, y->key) == 0 &&
		    strcmp(x->canon, y->canon) == 0)
			continue;
		rc = 1;
		/* Different chains here: the smaller one has a rule the other side lacks. */
		if (x != NULL && y != NULL && strcmp(x->key, y->key) != 0) {
			if (strcmp(x->key, y->key) < 0)
				y = NULL;
			else
				x = NULL;
		}
		if (diff != NULL && diff_size > 0)
			(void)snprintf(diff, diff_size,
			               "%s: the kernel has '%s' where '%s' was committed",
			               x != NULL ? x->key : y->key, y != NULL ? shown(y) : "(none)",
			               x != NULL ? shown(x) : "(none)");
		break;
	}
out:
	rules_free(&a);
	rules_free(&b);
	return rc;
}
