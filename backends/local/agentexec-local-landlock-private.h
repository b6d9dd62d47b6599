/* agentexec-local-landlock-private.h: the sandbox's Landlock ruleset
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AGENTEXEC_LANDLOCK_MAX_PATHS 8

/* What the child needs to restrict itself, computed in the parent. */
typedef struct
{
  int abi;         /* 0: Landlock is not available */
  guint64 handled; /* the file system rights the ruleset handles */
  guint64 scoped;  /* LANDLOCK_SCOPE_* the ruleset sets */
  guint64 read_only;
  guint64 writable;
  guint64 device;
  const char *read_only_paths[AGENTEXEC_LANDLOCK_MAX_PATHS];
  const char *writable_paths[AGENTEXEC_LANDLOCK_MAX_PATHS];
  const char *device_paths[AGENTEXEC_LANDLOCK_MAX_PATHS];
} AgentExecLocalLandlock;

typedef enum
{
  AGENTEXEC_LANDLOCK_READ,   /* read and execute beneath */
  AGENTEXEC_LANDLOCK_WRITE,  /* everything but making devices beneath */
  AGENTEXEC_LANDLOCK_DEVICE, /* read, write (and ioctl) device files beneath */
} AgentExecLandlockAccess;

int _agentexec_local_landlock_abi (void);
void _agentexec_local_landlock_init (AgentExecLocalLandlock *self);
gboolean _agentexec_local_landlock_add (AgentExecLocalLandlock *self,
                                        const char *path,
                                        AgentExecLandlockAccess access);
int _agentexec_local_landlock_restrict (const AgentExecLocalLandlock *self);

G_END_DECLS
