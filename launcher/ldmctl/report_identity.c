/* The identity part of `ldmctl report` (report_identity.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ldm/util.h"
#include "ldmctl/ldmctl.h"
#include "ldmctl/report_identity.h"

static char *
dup_set(const char *s)
{
	return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

void
report_identity_clear(struct report_identity *id)
{
	free(id->hostname);
	free(id->machine);
	free(id->version);
	free(id->boot_id);
	free(id->exe_sha256);
	free(id->policy_sha256);
	for (size_t i = 0; i < id->n_files; i++)
		free(id->files[i].path);
	*id = (struct report_identity){ 0 };
}

void
report_identity_start(struct report_identity *id, const struct ldm_event *e)
{
	report_identity_clear(id);
	id->hostname = dup_set(e->hostname);
	id->machine = dup_set(e->machine);
	id->version = dup_set(e->version);
	id->boot_id = dup_set(e->boot_id);
	id->exe_sha256 = dup_set(e->exe_sha256);
	id->policy_sha256 = dup_set(e->policy_sha256);
	id->landlock_abi = e->landlock_abi;
	id->seccomp_notify = e->seccomp_notify;
	id->ipv6 = e->ipv6;
}

void
report_identity_file(struct report_identity *id, const struct ldm_event *e)
{
	if (e->path == NULL || !ldm_event_sha256_ok(e->sha256))
		return;
	if (id->n_files >= REPORT_MAX_POLICY_FILES) {
		id->files_dropped++;
		return;
	}
	id->files[id->n_files].path = strdup(e->path);
	if (id->files[id->n_files].path == NULL)
		return;
	memcpy(id->files[id->n_files].sha256, e->sha256, sizeof(id->files[0].sha256));
	id->n_files++;
}

static const char *
yes_no(uint8_t v, const char *unknown)
{
	return v == LDM_EVENT_YES ? "yes" : v == LDM_EVENT_NO ? "no" : unknown;
}

static void
text_item(FILE *f, const char *label, const char *s)
{
	fprintf(f, "%s", label);
	ldmctl_put_escaped(f, s != NULL ? s : "?", false);
}

void
report_identity_text(FILE *f, const struct report_identity *id)
{
	text_item(f, "  host ", id->hostname);
	text_item(f, " (machine ", id->machine);
	text_item(f, ", boot ", id->boot_id);
	text_item(f, "), ldm ", id->version);
	text_item(f, "\n  executable sha256 ", id->exe_sha256);
	fputs(" (ldm-run's word)\n  kernel features: Landlock ABI ", f);
	if (id->landlock_abi != 0)
		fprintf(f, "%" PRIu32, id->landlock_abi);
	else
		fputs("?", f);
	fprintf(f, ", seccomp user notification %s, IPv6 enforced %s\n",
	        yes_no(id->seccomp_notify, "?"), yes_no(id->ipv6, "?"));
	text_item(f, "  policy sha256 ", id->policy_sha256);
	fprintf(f, "; built from %zu file%s:\n", id->n_files, id->n_files == 1 ? "" : "s");
	for (size_t i = 0; i < id->n_files; i++) {
		fprintf(f, "    %s  ", id->files[i].sha256);
		ldmctl_put_escaped(f, id->files[i].path, false);
		putc('\n', f);
	}
	if (id->files_dropped != 0)
		fprintf(f, "    (%" PRIu64 " more)\n", id->files_dropped);
}

static void
json_key(FILE *f, const char *key, const char *s)
{
	fprintf(f, ",\"%s\":", key);
	ldmctl_report_json_str(f, s);
}

static const char *
json_bool(uint8_t v)
{
	return v == LDM_EVENT_YES ? "true" : v == LDM_EVENT_NO ? "false" : "null";
}

void
report_identity_json(FILE *f, const struct report_identity *id)
{
	json_key(f, "hostname", id->hostname);
	json_key(f, "machine", id->machine);
	json_key(f, "boot_id", id->boot_id);
	json_key(f, "version", id->version);
	json_key(f, "exe_sha256", id->exe_sha256);
	if (id->landlock_abi != 0)
		fprintf(f, ",\"landlock_abi\":%" PRIu32, id->landlock_abi);
	else
		fputs(",\"landlock_abi\":null", f);
	fprintf(f, ",\"seccomp_notify\":%s,\"ipv6\":%s,\"policy_files\":[",
	        json_bool(id->seccomp_notify), json_bool(id->ipv6));
	for (size_t i = 0; i < id->n_files; i++) {
		fputs(i != 0 ? ",{\"path\":" : "{\"path\":", f);
		ldmctl_report_json_str(f, id->files[i].path);
		fprintf(f, ",\"sha256\":\"%s\"}", id->files[i].sha256);
	}
	putc(']', f);
}

static void
html_item(FILE *f, const char *th, const char *s)
{
	fprintf(f, "<tr><th>%s</th><td>", th);
	ldmctl_report_html(f, s != NULL ? s : "?");
	fputs("</td></tr>\n", f);
}

void
report_identity_html(FILE *f, const struct report_identity *id)
{
	html_item(f, "host", id->hostname);
	html_item(f, "machine", id->machine);
	html_item(f, "boot", id->boot_id);
	html_item(f, "ldm version", id->version);
	html_item(f, "executable sha256 (ldm-run's word)", id->exe_sha256);
	fprintf(f,
	        "<tr><th>kernel features</th><td>Landlock ABI %" PRIu32
	        ", seccomp user notification %s, IPv6 enforced %s</td></tr>\n",
	        id->landlock_abi, yes_no(id->seccomp_notify, "?"), yes_no(id->ipv6, "?"));
	html_item(f, "policy sha256", id->policy_sha256);
	for (size_t i = 0; i < id->n_files; i++) {
		fprintf(f, "<tr><th>policy file</th><td>%s ", id->files[i].sha256);
		ldmctl_report_html(f, id->files[i].path);
		fputs("</td></tr>\n", f);
	}
}
