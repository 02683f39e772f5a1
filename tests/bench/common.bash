# Sourced by the benchmark scripts (tests/bench/*.sh) after tests/integration/lib.sh.

# bench_median: the median of the numbers on standard input, one a line.
bench_median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan";
		else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_field FILE KEY: the value after the word KEY on FILE's last line that has it.
bench_field() {
	awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) v = $(i + 1) } END { print v }' "$1"
}

# bench_calc EXPR: floating-point arithmetic (awk).
bench_calc() {
	awk "BEGIN { printf \"%.4g\", $1 }"
}

# bench_result BENCH METRIC VALUE TARGET OK: one row of the `make bench` table; OK is a
# condition for awk ("v >= 0.95"), evaluated with v = VALUE. TARGET "-" means none.
bench_result() {
	local verdict=info
	if [ "$4" != - ]; then
		verdict=$(awk -v v="$3" "BEGIN { print (v == v + 0 && ($5)) ? \"PASS\" : \"FAIL\" }")
	fi
	printf 'RESULT|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$verdict"
}

# bench_wait_line FILE WORD [SECONDS]: waits until FILE has a line starting with WORD.
bench_wait_line() {
	tb_wait "${3:-10}" grep -q "^$2" "$1"
}
