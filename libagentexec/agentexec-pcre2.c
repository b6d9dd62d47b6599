/* agentexec-pcre2.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#ifdef HAVE_VALGRIND
#include <valgrind/valgrind.h>
#endif

#include "agentexec-pcre2-private.h"

static gboolean
jit_wanted (void)
{
#ifdef HAVE_VALGRIND
  /* JIT code confuses memcheck (uninitialised-value reports at unknown
   * addresses); the interpreter gives the same matches. */
  if (RUNNING_ON_VALGRIND)
    return FALSE;
#endif
  return g_strcmp0 (g_getenv ("AGENTEXEC_PCRE2_JIT"), "0") != 0;
}

/*
 * _agentexec_pcre2_compile:
 * @pattern: one of the library's own patterns
 * @options: pcre2_compile() options
 *
 * Compiles @pattern and JIT-compiles it where available (not under
 * valgrind, nor with AGENTEXEC_PCRE2_JIT=0). The patterns are the library's
 * own, so a compile error is a programming error and aborts with the
 * offset and PCRE2's message.
 */
pcre2_code *
_agentexec_pcre2_compile (const char *pattern, guint32 options)
{
  int errcode;
  PCRE2_SIZE offset;
  pcre2_code *code;

  code =
      pcre2_compile ((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, options, &errcode, &offset, NULL);
  if (code == NULL)
    {
      PCRE2_UCHAR message[256];

      pcre2_get_error_message (errcode, message, sizeof message);
      g_error ("pattern “%s” does not compile at offset %zu: %s", pattern, (gsize) offset,
               (const char *) message);
    }
  if (jit_wanted ())
    pcre2_jit_compile (code, PCRE2_JIT_COMPLETE);
  return code;
}
