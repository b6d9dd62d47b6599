# agentexec bash driver (DESIGN.md, "Interpreter driver protocol").
#
# Passed to bash on its command line: bash -c SOURCE agentexec-driver serve IN_FD OUT_FD [TOKEN]
# Each request is a frame "<length>\n<code>" (the code itself, not JSON); the code
# runs with eval in this shell, so variables, functions and the working directory
# persist. The reply is the frame "<length>\n{"exit_code": N}" on OUT_FD. With
# OUT_FD 1 (one channel) TOKEN precedes the reply on stdout and TOKEN + newline
# is written to stderr: the sentinels that end the code's output.
if [ "$1" != serve ] || [ -z "$2" ] || [ -z "$3" ]; then
  echo 'usage: bash -c DRIVER agentexec-driver serve IN_FD OUT_FD [TOKEN]' >&2
  exit 2
fi
__ae_in=$2 __ae_out=$3 __ae_token=
if [ "$__ae_out" = 1 ]; then __ae_token=$4; exec 9>&1; __ae_out=9; fi
if [ "$__ae_in" = 0 ]; then exec 8<&0 </dev/null; __ae_in=8; fi
shift $#

__ae_reply () {
  local body=$1
  if [ -n "$__ae_token" ]; then printf '%s\n' "$__ae_token" >&2; fi
  printf '%s%d\n%s' "$__ae_token" "${#body}" "$body" >&"$__ae_out"
}

__ae_reply "{\"ready\": true, \"language\": \"bash\", \"pid\": $$, \"version\": \"$BASH_VERSION\"}"
while LC_ALL=C IFS= read -r __ae_len <&"$__ae_in"; do
  __ae_code=
  if [ "$__ae_len" -gt 0 ]; then
    LC_ALL=C IFS= read -r -d '' -N "$__ae_len" __ae_code <&"$__ae_in" || :
  fi
  eval "$__ae_code" </dev/null
  __ae_reply "{\"exit_code\": $?}"
done
