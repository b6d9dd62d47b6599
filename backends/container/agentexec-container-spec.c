/* agentexec-container-spec.c: the JSON of a container to create
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "agentexec-container-labels-private.h"
#include "agentexec-container-run-private.h"
#include "agentexec-container-workspace-private.h"

#define NOFILE_LIMIT 4096
#define NPROC_LIMIT 4096

static void
add_strv (JsonBuilder *builder, const char *member, const char *const *values)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    json_builder_add_string_value (builder, values[i]);
  json_builder_end_array (builder);
}

static void
add_ulimit (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Name");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "Soft");
  json_builder_add_int_value (builder, value);
  json_builder_set_member_name (builder, "Hard");
  json_builder_add_int_value (builder, value);
  json_builder_end_object (builder);
}

static void
add_host_config (JsonBuilder *builder, const AgentExecContainerSpec *spec)
{
  static const char *const drop_all[] = { "ALL", NULL };
  static const char *const no_new_privs[] = { "no-new-privileges", NULL };

  json_builder_set_member_name (builder, "HostConfig");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "NetworkMode");
  json_builder_add_string_value (builder, spec->network_mode);
  if (spec->drop_capabilities)
    add_strv (builder, "CapDrop", drop_all);
  if (spec->no_new_privileges)
    add_strv (builder, "SecurityOpt", no_new_privs);
  json_builder_set_member_name (builder, "ReadonlyRootfs");
  json_builder_add_boolean_value (builder, spec->read_only_root);
  json_builder_set_member_name (builder, "Tmpfs");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "/tmp");
  json_builder_add_string_value (builder, "rw,nosuid,nodev,size=256m");
  json_builder_end_object (builder);
  if (spec->memory_bytes > 0)
    {
      json_builder_set_member_name (builder, "Memory");
      json_builder_add_int_value (builder, (gint64) MIN (spec->memory_bytes, G_MAXINT64));
      json_builder_set_member_name (builder, "MemorySwap");
      json_builder_add_int_value (builder, (gint64) MIN (spec->memory_bytes, G_MAXINT64));
    }
  if (spec->cpus > 0)
    {
      json_builder_set_member_name (builder, "NanoCpus");
      json_builder_add_int_value (builder, (gint64) (spec->cpus * 1e9));
    }
  if (spec->pids_limit > 0)
    {
      json_builder_set_member_name (builder, "PidsLimit");
      json_builder_add_int_value (builder, spec->pids_limit);
    }
  /* Podman's runc fails with "error setting rlimit" unless both are set. */
  json_builder_set_member_name (builder, "Ulimits");
  json_builder_begin_array (builder);
  add_ulimit (builder, "nofile", NOFILE_LIMIT);
  add_ulimit (builder, "nproc", NPROC_LIMIT);
  json_builder_end_array (builder);
  /* Output reaches us through attach; the engine need not log it to disk. */
  json_builder_set_member_name (builder, "LogConfig");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Type");
  json_builder_add_string_value (builder, "none");
  json_builder_end_object (builder);
  json_builder_end_object (builder);
}

static void
add_labels (JsonBuilder *builder, const AgentExecContainerSpec *spec)
{
  json_builder_set_member_name (builder, "Labels");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, AGENTEXEC_LABEL_MANAGED);
  json_builder_add_string_value (builder, "1");
  json_builder_set_member_name (builder, AGENTEXEC_LABEL_OWNER);
  json_builder_add_string_value (builder, _agentexec_container_owner_label ());
  json_builder_set_member_name (builder, AGENTEXEC_LABEL_EXECUTOR);
  json_builder_add_string_value (builder, spec->executor_id);
  json_builder_end_object (builder);
}

/*
 * _agentexec_container_create_body:
 *
 * The JSON of POST /containers/create for @spec running @argv.
 */
JsonNode *
_agentexec_container_create_body (const AgentExecContainerSpec *spec,
                                  const char *const *argv,
                                  const char *const *env)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Image");
  json_builder_add_string_value (builder, spec->image);
  add_strv (builder, "Cmd", argv);
  if (env != NULL)
    add_strv (builder, "Env", env);
  json_builder_set_member_name (builder, "User");
  json_builder_add_string_value (builder, spec->user);
  json_builder_set_member_name (builder, "WorkingDir");
  json_builder_add_string_value (builder, WORKSPACE);
  json_builder_set_member_name (builder, "AttachStdout");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "AttachStderr");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "Tty");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "NetworkDisabled");
  json_builder_add_boolean_value (builder, g_str_equal (spec->network_mode, "none"));
  json_builder_set_member_name (builder, "Volumes");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, WORKSPACE);
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  add_labels (builder, spec);
  add_host_config (builder, spec);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}
