/*
 * The session state machine (enforcer/daemon/session_state.c): the moves of the life cycle
 * are taken, every other one is refused and leaves the state as it was.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/session_state.h"

#define F SESSION_FREE
#define P SESSION_PROBING
#define R SESSION_READY
#define E SESSION_ENDING
#define S SESSION_SPARE
#define C SESSION_CLOSING

static const struct {
	enum session_state from, to;
} life[] = {
	{ F, S }, { F, P }, { F, R }, { F, E }, { F, F }, /* made, requested, restored, cleared */
	{ S, P }, { S, F },                               /* taken, cleared */
	{ P, R }, { P, E }, { P, C }, { P, F },           /* probe seen / failed, abandoned */
	{ R, E },                                         /* its cgroup emptied */
	{ E, E }, { E, C }, { E, F },                     /* ended: out of the ruleset */
	{ C, F },                                         /* a commit without it is in */
};

static bool
in_life(enum session_state from, enum session_state to)
{
	for (size_t i = 0; i < sizeof(life) / sizeof(life[0]); i++)
		if (life[i].from == from && life[i].to == to)
			return true;
	return false;
}

static void
test_every_move(void **state)
{
	(void)state;
	for (int from = F; from <= C; from++) {
		for (int to = F; to <= C; to++) {
			struct session s = { .state = (enum session_state)from };
			int r = ldm_session_state_set(&s, (enum session_state)to);

			if (in_life(from, to)) {
				if (r != 0 || s.state != (enum session_state)to)
					fail_msg("%s -> %s refused", ldm_session_state_name(from),
					         ldm_session_state_name(to));
			} else if (r != -EINVAL || s.state != (enum session_state)from) {
				fail_msg("%s -> %s taken", ldm_session_state_name(from),
				         ldm_session_state_name(to));
			}
		}
	}
}

/* A ready session never skips ENDING (its end record and final counts come from there), and
 * nothing comes back from CLOSING but a free slot. */
static void
test_impossible(void **state)
{
	struct session s = { .state = R };

	(void)state;
	assert_int_equal(ldm_session_state_set(&s, F), -EINVAL);
	assert_int_equal(ldm_session_state_set(&s, C), -EINVAL);
	assert_int_equal(ldm_session_state_set(&s, P), -EINVAL);
	assert_int_equal(s.state, R);
	s.state = C;
	assert_int_equal(ldm_session_state_set(&s, R), -EINVAL);
	assert_int_equal(ldm_session_state_set(&s, (enum session_state)99), -EINVAL);
	assert_string_equal(ldm_session_state_name((enum session_state)99), "?");
	assert_string_equal(ldm_session_state_name(SESSION_PROBING), "probing");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_move),
		cmocka_unit_test(test_impossible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
