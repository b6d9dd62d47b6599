/* agentexec-server-ndjson-private.h: the lines of an /execute stream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The E2B SDKs split the body on "\n" and decode every network chunk on its
 * own, so a UTF-8 character cut between two chunks would be corrupted: every
 * line is ASCII-only JSON (non-ASCII characters as \uXXXX escapes, surrogate
 * pairs above the BMP), ends with exactly one "\n", and is never blank.
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

char *_agentexec_server_json_to_ascii_line (JsonNode *node);
char *_agentexec_server_event_line (const char *type, ...) G_GNUC_NULL_TERMINATED;
char *_agentexec_server_timestamp (void);
gsize _agentexec_server_utf8_complete_prefix (const char *data, gsize len);

G_END_DECLS
