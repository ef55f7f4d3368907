# Results for the *_test.sh scripts of make check's cells: "ok N NAME" or
# "not ok N NAME # DETAIL", counted in pass and fail; the script ends with
# summary. Source it after lib.sh, don't run it.

pass=0 fail=0 n=0

# result NAME OK [DETAIL]
result() {
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		pass=$((pass + 1)) && echo "ok $n $1"
	else
		fail=$((fail + 1)) && echo "not ok $n $1${3:+ # $3}"
	fi
}
# check NAME CMD...: run CMD, its exit status is the result.
check() {
	local name=$1 rc=0 out
	shift
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -n 5 | sed 's/^/    # /'
	result "$name" "$rc" "$(printf '%s\n' "$out" | tail -n 1)"
}

# expect_fail NAME TEXT CMD...: CMD must fail and say TEXT.
expect_fail() {
	local name=$1 text=$2 rc=0 out
	shift 2
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" != 0 ] && printf '%s\n' "$out" | grep -qF -- "$text"
	result "$name" $? "exit $rc: $(printf '%s\n' "$out" | tail -n 1)"
}

# summary: print "N passed, N failed"; fails if a result failed or there
# was none.
summary() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ] && [ "$n" -gt 0 ]
}
