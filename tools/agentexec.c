/* agentexec.c: run code, or the code blocks of a model reply, with a backend
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   agentexec run [--backend B] [--language L] [--timeout S] [--stateful] FILE|-
 *   agentexec reply [--backend B] [--timeout S] [--stateful] FILE|-
 *   agentexec serve [--listen ADDR:PORT] [--backend container|local] [--token-file FILE] ...
 *   agentexec --help
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>

#include "libagentexec.h"
#include "agentexec-server-activation-private.h"
#include "agentexec-server-private.h"

#define EXIT_USAGE 2
#define EXIT_BACKEND 3
#define EXIT_TIMEOUT 124
#define EXIT_CANCEL 130

typedef struct
{
  char *backend;
  char *language;
  char *output_dir;
  char *image;
  guint serve_sessions; /* serve: sessions the container backend may hold */
  double timeout_s;
  gboolean stateful;
  gboolean allow_unsafe;
  gboolean no_sandbox;
  gboolean quiet;
} Options;

static void
options_clear (Options *options)
{
  g_clear_pointer (&options->backend, g_free);
  g_clear_pointer (&options->language, g_free);
  g_clear_pointer (&options->output_dir, g_free);
  g_clear_pointer (&options->image, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

typedef AgentExecCodeExecutor *(*BackendNew) (const Options *options, GError **error);

static AgentExecCodeExecutor *new_local (const Options *options, GError **error);
static AgentExecCodeExecutor *new_container (const Options *options, GError **error);
static AgentExecCodeExecutor *new_builtin (const Options *options, GError **error);
static AgentExecCodeExecutor *new_kubernetes (const Options *options, GError **error);

/* The backends, by --backend name. The first is the default. Each entry makes
 * a configured executor or fails with an error that says what to do. */
static const struct
{
  const char *name;
  const char *summary;
  BackendNew create;
} backends[] = {
  { "local",
    "host processes in a kernel sandbox (namespaces, seccomp, Landlock; no network); "
    "--no-sandbox runs them with your rights and needs --allow-unsafe or "
    "AGENTEXEC_ALLOW_UNSAFE=1",
    new_local },
  { "container",
    "a fresh Docker/Podman container per run (DOCKER_HOST, image "
    "agentexec-runtime:latest)",
    new_container },
  { "builtin",
    "Gemini runs the Python code (GEMINI_API_KEY; AGENTEXEC_GEMINI_MODEL, "
    "AGENTEXEC_GEMINI_BASE_URL)",
    new_builtin },
  { "kubernetes",
    "a pod per run on a cluster (KUBECONFIG; AGENTEXEC_KUBE_CONTEXT, _NAMESPACE, _IMAGE, "
    "_POOL_SIZE)",
    new_kubernetes },
};

static gboolean
env_allows_unsafe (void)
{
  const char *value = g_getenv ("AGENTEXEC_ALLOW_UNSAFE");

  return value != NULL && (g_str_equal (value, "1") || g_ascii_strcasecmp (value, "true") == 0 ||
                           g_ascii_strcasecmp (value, "yes") == 0);
}

static AgentExecCodeExecutor *
new_local (const Options *options, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  AgentExecLocalExecutor *executor;

  executor = g_initable_new (AGENTEXEC_TYPE_LOCAL_EXECUTOR, NULL, &local_error, "allow-unsafe",
                             options->allow_unsafe || env_allows_unsafe (), "sandbox",
                             options->no_sandbox ? AGENTEXEC_LOCAL_SANDBOX_NONE
                                                 : AGENTEXEC_LOCAL_SANDBOX_NAMESPACES,
                             NULL);
  if (executor == NULL)
    {
      if (g_error_matches (local_error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSAFE_NOT_ALLOWED))
        g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSAFE_NOT_ALLOWED,
                     "With --no-sandbox the local backend runs the code on this machine with "
                     "your rights. Pass --allow-unsafe (or set AGENTEXEC_ALLOW_UNSAFE=1) to "
                     "accept that, drop --no-sandbox, or choose another backend with "
                     "--backend");
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return AGENTEXEC_CODE_EXECUTOR (executor);
}

static AgentExecCodeExecutor *
new_container (const Options *options, GError **error)
{
  if (options->serve_sessions == 0)
    return AGENTEXEC_CODE_EXECUTOR (agentexec_container_executor_new (options->image, NULL, error));
  /* serve: one session per context, ended by the server, not by idleness. */
  return g_initable_new (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, error, "image", options->image,
                         "max-sessions", options->serve_sessions, "session-idle-timeout-ms", 0,
                         NULL);
}

static AgentExecCodeExecutor *
new_builtin (const Options *options, GError **error)
{
  g_autoptr (AgentExecBuiltInExecutor) executor = agentexec_built_in_executor_new ();

  if (!agentexec_built_in_executor_has_api_key (executor))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                   "The builtin backend has Gemini run the code and needs an API key: set "
                   "GEMINI_API_KEY (or GOOGLE_API_KEY), or choose another backend with "
                   "--backend");
      return NULL;
    }
  if (g_getenv ("AGENTEXEC_GEMINI_MODEL") != NULL)
    agentexec_built_in_executor_set_model (executor, g_getenv ("AGENTEXEC_GEMINI_MODEL"));
  if (g_getenv ("AGENTEXEC_GEMINI_BASE_URL") != NULL)
    agentexec_built_in_executor_set_base_url (executor, g_getenv ("AGENTEXEC_GEMINI_BASE_URL"));
  return AGENTEXEC_CODE_EXECUTOR (g_steal_pointer (&executor));
}

static AgentExecCodeExecutor *
new_kubernetes (const Options *options, GError **error)
{
  const char *pool = g_getenv ("AGENTEXEC_KUBE_POOL_SIZE");
  guint64 pool_size = 0;

  /* One command runs once: a warm pool would only start pods to delete. */
  if (pool != NULL && !g_ascii_string_to_unsigned (pool, 10, 0, 256, &pool_size, error))
    {
      g_prefix_error (error, "AGENTEXEC_KUBE_POOL_SIZE: ");
      return NULL;
    }
  return g_initable_new (AGENTEXEC_TYPE_KUBERNETES_EXECUTOR, NULL, error, "context",
                         g_getenv ("AGENTEXEC_KUBE_CONTEXT"), "namespace",
                         g_getenv ("AGENTEXEC_KUBE_NAMESPACE"), "image",
                         g_getenv ("AGENTEXEC_KUBE_IMAGE"), "pool-size", (guint) pool_size, NULL);
}

static AgentExecCodeExecutor *
new_executor (const Options *options, GError **error)
{
  const char *name = options->backend != NULL ? options->backend : backends[0].name;
  g_autoptr (GString) known = g_string_new (NULL);
  AgentExecCodeExecutor *executor = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    {
      g_string_append_printf (known, "%s%s", i > 0 ? ", " : "", backends[i].name);
      if (g_str_equal (backends[i].name, name))
        executor = backends[i].create (options, error);
      if (g_str_equal (backends[i].name, name))
        break;
    }
  if (executor == NULL && (error == NULL || *error == NULL))
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                 "Unknown backend “%s”: choose one of %s", name, known->str);
  if (executor == NULL)
    return NULL;
  g_object_set (executor, "stateful", options->stateful, "timeout-ms",
                (guint) (options->timeout_s * 1000.0), NULL);
  return executor;
}

static char *
read_input (const char *path, GError **error)
{
  g_autoptr (GByteArray) data = g_byte_array_new ();
  char buffer[65536];
  gssize n;
  char *text;

  if (!g_str_equal (path, "-"))
    return g_file_get_contents (path, &text, NULL, error) ? text : NULL;
  while ((n = read (STDIN_FILENO, buffer, sizeof buffer)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                       "Cannot read standard input: %s", g_strerror (errno));
          return NULL;
        }
      g_byte_array_append (data, (const guint8 *) buffer, n);
    }
  g_byte_array_append (data, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&data), FALSE);
}

/* Streaming: the code's output reaches the terminal while it runs. */
static void
on_output (AgentExecCodeExecutor *executor,
           AgentExecExecutionInput *input,
           AgentExecStream stream,
           GBytes *chunk,
           gpointer data)
{
  FILE *out = stream == AGENTEXEC_STREAM_STDOUT ? stdout : stderr;
  gsize len;
  const char *bytes = g_bytes_get_data (chunk, &len);

  fwrite (bytes, 1, len, out);
  fflush (out);
}

typedef struct
{
  GMainLoop *loop;
  GCancellable *cancellable;
  AgentExecExecutionResult *result;
  GError *error;
} Call;

static void
on_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Call *call = data;

  call->result = agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res,
                                                              &call->error);
  g_main_loop_quit (call->loop);
}

static gboolean
on_interrupt (gpointer data)
{
  Call *call = data;

  g_printerr ("agentexec: interrupted, stopping the code\n");
  g_cancellable_cancel (call->cancellable);
  return G_SOURCE_CONTINUE;
}

/* Runs @input asynchronously so that Ctrl-C cancels it and output streams. */
static AgentExecExecutionResult *
execute (AgentExecCodeExecutor *executor, AgentExecExecutionInput *input, GError **error)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Call call = { loop, cancellable, NULL, NULL };
  guint sigint = g_unix_signal_add (SIGINT, on_interrupt, &call);
  guint sigterm = g_unix_signal_add (SIGTERM, on_interrupt, &call);

  agentexec_code_executor_execute_code_async (executor, NULL, input, cancellable, on_done, &call);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  if (call.error != NULL)
    g_propagate_error (error, call.error);
  return call.result;
}

static gboolean
save_files (const Options *options, AgentExecExecutionResult *result)
{
  GPtrArray *files = agentexec_execution_result_get_output_files (result);
  gboolean ok = TRUE;

  for (guint i = 0; files != NULL && i < files->len; i++)
    {
      AgentExecFile *file = g_ptr_array_index (files, i);
      const char *name = agentexec_file_get_name (file);
      g_autofree char *path = NULL;
      g_autofree char *dir = NULL;
      g_autoptr (GError) error = NULL;
      GBytes *content = agentexec_file_get_content (file);

      if (options->output_dir == NULL)
        {
          if (!options->quiet)
            g_printerr ("agentexec: output file %s (%s, %" G_GSIZE_FORMAT " bytes); "
                        "use --output-dir to save it\n",
                        name, agentexec_file_get_mime_type (file), g_bytes_get_size (content));
          continue;
        }
      path = g_build_filename (options->output_dir, name, NULL);
      dir = g_path_get_dirname (path);
      if (g_mkdir_with_parents (dir, 0755) != 0 ||
          !g_file_set_contents (path, g_bytes_get_data (content, NULL), g_bytes_get_size (content),
                                &error))
        {
          g_printerr ("agentexec: cannot save %s: %s\n", path,
                      error != NULL ? error->message : g_strerror (errno));
          ok = FALSE;
        }
      else if (!options->quiet)
        g_printerr ("agentexec: saved %s\n", path);
    }
  return ok;
}

static int
exit_status_for (AgentExecExecutionResult *result)
{
  switch (agentexec_execution_result_get_outcome (result))
    {
    case AGENTEXEC_OUTCOME_OK:
      return 0;
    case AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED:
      return EXIT_TIMEOUT;
    case AGENTEXEC_OUTCOME_CANCELLED:
      return EXIT_CANCEL;
    case AGENTEXEC_OUTCOME_FAILED:
    case AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED:
    case AGENTEXEC_OUTCOME_ERROR:
    default:
      return agentexec_execution_result_get_exit_code (result) > 0
                 ? MIN (agentexec_execution_result_get_exit_code (result), 255)
                 : 1;
    }
}

static int
report_error (const char *what, GError *error)
{
  g_printerr ("agentexec: %s: %s\n", what, error->message);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return EXIT_CANCEL;
  if (error->domain == AGENTEXEC_ERROR && (error->code == AGENTEXEC_ERROR_INVALID_INPUT ||
                                           error->code == AGENTEXEC_ERROR_UNSAFE_NOT_ALLOWED ||
                                           error->code == AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE))
    return EXIT_USAGE;
  return EXIT_BACKEND;
}

static void
add_common_options (GOptionContext *context, Options *options, gboolean with_language)
{
  GOptionEntry entries[] = { { "backend", 'b', 0, G_OPTION_ARG_STRING, &options->backend,
                               "Where the code runs (default: local)", "NAME" },
                             { "language", 'l', 0, G_OPTION_ARG_STRING, &options->language,
                               "The language (default: detected from the code)", "LANG" },
                             { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &options->timeout_s,
                               "Kill the code after this many seconds (default 60; 0: never)",
                               "SECONDS" },
                             { "stateful", 's', 0, G_OPTION_ARG_NONE, &options->stateful,
                               "Keep one interpreter, so later code sees earlier variables", NULL },
                             { "allow-unsafe", 0, 0, G_OPTION_ARG_NONE, &options->allow_unsafe,
                               "Accept that --no-sandbox runs code on this machine", NULL },
                             { "no-sandbox", 0, 0, G_OPTION_ARG_NONE, &options->no_sandbox,
                               "Local backend: no kernel sandbox (needs --allow-unsafe)", NULL },
                             { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &options->output_dir,
                               "Save the files the code writes into DIR", "DIR" },
                             { "quiet", 'q', 0, G_OPTION_ARG_NONE, &options->quiet,
                               "Print only the code's output (run) or the results (reply)", NULL },
                             { NULL } };

  if (!with_language)
    memmove (&entries[1], &entries[2], sizeof entries - 2 * sizeof entries[0]);
  g_option_context_add_main_entries (context, entries, NULL);
}

static char *
backend_list (void)
{
  GString *text = g_string_new ("Backends:\n");

  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    g_string_append_printf (text, "  %-10s %s\n", backends[i].name, backends[i].summary);
  return g_string_free (text, FALSE);
}

static gboolean
parse_command (const char *command,
               const char *summary,
               gboolean with_language,
               Options *options,
               int *argc,
               char ***argv,
               char **file)
{
  g_autofree char *parameter = g_strdup_printf ("%s FILE|-", command);
  g_autoptr (GOptionContext) context = g_option_context_new (parameter);
  g_autofree char *description = backend_list ();
  g_autoptr (GError) error = NULL;

  options->timeout_s = 60;
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, description);
  add_common_options (context, options, with_language);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("agentexec %s: %s (see agentexec %s --help)\n", command, error->message, command);
      return FALSE;
    }
  if (*argc != 3 || options->timeout_s < 0)
    {
      g_printerr ("agentexec %s: give one FILE, or - for standard input, and a timeout of 0 "
                  "or more (see agentexec %s --help)\n",
                  command, command);
      return FALSE;
    }
  *file = (*argv)[2];
  return TRUE;
}

static int
command_run (int argc, char **argv)
{
  g_auto (Options) options = { 0 };
  g_autoptr (AgentExecCodeExecutor) executor = NULL;
  g_autoptr (AgentExecExecutionInput) input = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL;
  char *file;

  if (!parse_command ("run", "Runs the code in FILE (or standard input) and streams its output.",
                      TRUE, &options, &argc, &argv, &file))
    return EXIT_USAGE;
  if ((code = read_input (file, &error)) == NULL)
    return report_error ("cannot read the code", error) == EXIT_CANCEL ? EXIT_CANCEL : 1;
  if ((executor = new_executor (&options, &error)) == NULL)
    return report_error ("cannot use the backend", error);
  input = agentexec_execution_input_new (code, options.language);
  g_signal_connect (executor, "output", G_CALLBACK (on_output), NULL);
  result = execute (executor, input, &error);
  agentexec_code_executor_close (executor);
  if (result == NULL)
    return report_error ("the code could not run", error);
  if (!options.quiet && agentexec_execution_result_get_outcome (result) != AGENTEXEC_OUTCOME_OK)
    g_printerr ("agentexec: %s (%s, exit code %d)\n",
                agentexec_outcome_to_string (agentexec_execution_result_get_outcome (result)),
                agentexec_execution_result_get_language (result),
                agentexec_execution_result_get_exit_code (result));
  save_files (&options, result);
  return exit_status_for (result);
}

/* Only blocks in a language the library knows are run; an untagged block
 * is run when its language can be detected from a shebang. */
static const char *
block_language (AgentExecCodeBlock *block)
{
  const char *language = agentexec_code_block_get_language (block);

  if (language != NULL && language[0] != '\0')
    return agentexec_language_resolve (language, NULL);
  if (g_str_has_prefix (agentexec_code_block_get_code (block), "#!"))
    return agentexec_language_detect (agentexec_code_block_get_code (block));
  return NULL;
}

static int
command_reply (int argc, char **argv)
{
  g_auto (Options) options = { 0 };
  g_autoptr (AgentExecCodeExecutor) executor = NULL;
  g_autoptr (AgentExecCodeBlockParser) parser = agentexec_code_block_parser_new ();
  g_autoptr (AgentExecResultFormatter) formatter = agentexec_result_formatter_new ();
  g_autoptr (GPtrArray) blocks = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint ran = 0, failed = 0;
  char *file;

  if (!parse_command ("reply",
                      "Extracts the code blocks of a model reply in FILE (or standard "
                      "input), runs them in order and prints each block with its result, "
                      "formatted as ADK hands it back to the model.",
                      FALSE, &options, &argc, &argv, &file))
    return EXIT_USAGE;
  if ((text = read_input (file, &error)) == NULL)
    return report_error ("cannot read the reply", error) == EXIT_CANCEL ? EXIT_CANCEL : 1;
  if ((executor = new_executor (&options, &error)) == NULL)
    return report_error ("cannot use the backend", error);

  blocks = agentexec_code_block_parser_extract_code_blocks (parser, text);
  for (guint i = 0; i < blocks->len; i++)
    {
      AgentExecCodeBlock *block = g_ptr_array_index (blocks, i);
      const char *language = block_language (block);
      g_autoptr (AgentExecExecutionInput) input = NULL;
      g_autoptr (AgentExecExecutionResult) result = NULL;
      g_autofree char *formatted = NULL;

      if (language == NULL)
        continue;
      input = agentexec_execution_input_new (agentexec_code_block_get_code (block), language);
      result = execute (executor, input, &error);
      if (result == NULL)
        return report_error ("a code block could not run", error);
      ran++;
      if (agentexec_execution_result_is_error (result))
        failed++;
      formatted = agentexec_result_formatter_format_inline_result (formatter, result);
      if (!options.quiet)
        g_print ("```%s\n%s```\n", language, agentexec_code_block_get_code (block));
      g_print ("%s\n", formatted);
      if (!options.quiet)
        g_print ("(block %u: %s, %s, %.1f ms)\n\n", i + 1, language,
                 agentexec_outcome_to_string (agentexec_execution_result_get_outcome (result)),
                 agentexec_execution_result_get_duration_us (result) / 1000.0);
      save_files (&options, result);
    }
  agentexec_code_executor_close (executor);
  if (ran == 0)
    g_printerr ("agentexec: the reply holds no code block in a language that can run\n");
  return failed > 0 ? 1 : 0;
}

/* serve */

typedef struct
{
  char *listen;
  char *token_file;
  char *token_env;
  int max_contexts;
  int max_executions;
  int idle_s;
  int max_code_bytes;
  int health_port;
  gboolean no_access_log;
} ServeOptions;

static GMainLoop *serve_loop;

static void
on_serve_stopped (GObject *source, GAsyncResult *res, gpointer data)
{
  g_main_loop_quit (serve_loop);
}

static gboolean
on_serve_signal (gpointer data)
{
  AgentExecServer *server = data;
  static gboolean stopping;

  if (stopping)
    return G_SOURCE_CONTINUE;
  stopping = TRUE;
  g_printerr ("agentexec serve: stopping: cancelling executions, closing every context\n");
  _agentexec_server_shutdown_async (server, 5000, on_serve_stopped, NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean
split_listen (const char *listen, char **host, guint *port)
{
  const char *colon = strrchr (listen, ':');
  guint64 value;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &value, NULL))
    return FALSE;
  *host = g_strndup (listen, colon - listen);
  if ((*host)[0] == '[' && g_str_has_suffix (*host, "]"))
    {
      char *inner = g_strndup (*host + 1, strlen (*host) - 2);

      g_free (*host);
      *host = inner;
    }
  *port = (guint) value;
  return TRUE;
}

static AgentExecCodeExecutor *
new_serve_executor (Options *options, const ServeOptions *serve, GError **error)
{
  AgentExecCodeExecutor *executor;

  options->stateful = TRUE;
  if (options->backend == NULL)
    options->backend = g_strdup ("container");
  if (g_str_equal (options->backend, "builtin"))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "serve needs a stateful backend: choose --backend container, local or "
                   "kubernetes");
      return NULL;
    }
  options->serve_sessions = serve->max_contexts > 0 ? (guint) serve->max_contexts : G_MAXINT;
  executor = new_executor (options, error);
  if (executor == NULL)
    return NULL;
  /* E2B streams whatever the code prints; the cap only bounds memory. */
  g_object_set (executor, "max-output-bytes", (guint64) 64 * 1024 * 1024, NULL);
  /* The server ends contexts itself; sessions live as long as their context. */
  if (AGENTEXEC_IS_LOCAL_EXECUTOR (executor))
    g_object_set (executor, "session-idle-timeout-ms", 0, NULL);
  return executor;
}

static gboolean
parse_serve (int *argc, char ***argv, Options *options, ServeOptions *serve)
{
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &serve->listen,
      "Address and port (default 127.0.0.1:49999)", "ADDR:PORT" },
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &options->backend,
      "container (default), local or kubernetes", "NAME" },
    { "allow-unsafe", 0, 0, G_OPTION_ARG_NONE, &options->allow_unsafe,
      "Accept that --no-sandbox runs code on this machine", NULL },
    { "no-sandbox", 0, 0, G_OPTION_ARG_NONE, &options->no_sandbox,
      "Local backend: no kernel sandbox (needs --allow-unsafe)", NULL },
    { "image", 0, 0, G_OPTION_ARG_STRING, &options->image,
      "The container backend's image (default agentexec-runtime:latest)", "NAME" },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &serve->token_file,
      "Clients must send the token in FILE as E2B-Traffic-Access-Token (required off loopback)",
      "FILE" },
    { "token-env", 0, 0, G_OPTION_ARG_STRING, &serve->token_env,
      "Like --token-file, the token read from environment variable NAME (then unset)", "NAME" },
    { "max-contexts", 0, 0, G_OPTION_ARG_INT, &serve->max_contexts,
      "At most N contexts (default 64)", "N" },
    { "max-executions", 0, 0, G_OPTION_ARG_INT, &serve->max_executions,
      "At most N executions running or queued (default 256)", "N" },
    { "context-idle-timeout", 0, 0, G_OPTION_ARG_INT, &serve->idle_s,
      "Remove contexts unused for S seconds (default 0: never)", "S" },
    { "max-code-bytes", 0, 0, G_OPTION_ARG_INT, &serve->max_code_bytes,
      "Largest code of one execution (default 1048576)", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &options->timeout_s,
      "Kill one execution after S seconds (default 0: only the client's timeout)", "S" },
    { "health-port", 0, 0, G_OPTION_ARG_INT, &serve->health_port,
      "Also answer GET /health on this port (default 49983, E2B's envd; 0: no)", "PORT" },
    { "no-access-log", 0, 0, G_OPTION_ARG_NONE, &serve->no_access_log,
      "Do not log one JSON line per request on standard error", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("");
  g_autoptr (GError) error = NULL;

  serve->max_contexts = 64;
  serve->max_executions = 256;
  serve->max_code_bytes = 1024 * 1024;
  serve->health_port = -1; /* the default, AGENTEXEC_SERVER_HEALTH_PORT */
  g_option_context_set_summary (context,
                                "Serves E2B's code-interpreter API (the @e2b/code-interpreter and "
                                "e2b-code-interpreter SDKs in debug mode) on a backend.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error) || *argc != 2 ||
      serve->max_contexts < 0 || serve->max_executions < 0 || serve->idle_s < 0 ||
      serve->max_code_bytes <= 0 || options->timeout_s < 0 || serve->health_port < -1 ||
      serve->health_port > 65535)
    {
      g_printerr ("agentexec serve: %s (see agentexec serve --help)\n",
                  error != NULL ? error->message : "bad arguments");
      return FALSE;
    }
  return TRUE;
}

/* The token of --token-file or --token-env (NULL: none); the variable is
 * removed from the environment, so that no code the server runs sees it. */
static gboolean
read_serve_token (const ServeOptions *serve, char **token)
{
  const char *source = serve->token_file != NULL ? serve->token_file : serve->token_env;

  *token = NULL;
  if (serve->token_file != NULL && serve->token_env != NULL)
    {
      g_printerr ("agentexec serve: give the token with --token-file or --token-env, not both\n");
      return FALSE;
    }
  if (serve->token_file != NULL)
    {
      g_autoptr (GError) token_error = NULL;

      if (!g_file_get_contents (serve->token_file, token, NULL, &token_error))
        {
          g_printerr ("agentexec serve: cannot read the token file: %s\n", token_error->message);
          return FALSE;
        }
    }
  else if (serve->token_env != NULL)
    {
      const char *value = serve->token_env[0] != '\0' && strchr (serve->token_env, '=') == NULL
                              ? g_getenv (serve->token_env)
                              : NULL;

      if (value == NULL)
        {
          g_printerr ("agentexec serve: --token-env %s: no such environment variable (set it to "
                      "the token, e.g. export %s=$(openssl rand -hex 32))\n",
                      serve->token_env, serve->token_env);
          return FALSE;
        }
      *token = g_strdup (value);
      g_unsetenv (serve->token_env);
    }
  else
    return TRUE;
  g_strstrip (*token);
  if (strchr (*token, '\n') != NULL || strlen (*token) < 16)
    {
      g_printerr ("agentexec serve: %s %s must hold one token of at least 16 characters (e.g. "
                  "openssl rand -hex 32)\n",
                  serve->token_file != NULL ? "the token file" : "the environment variable",
                  source);
      g_clear_pointer (token, g_free);
      return FALSE;
    }
  return TRUE;
}

/* "listening on URL" for a socket systemd passed (a Unix socket: its path). */
static void
print_listening (GSocket *socket, const char *backend)
{
  g_autoptr (GSocketAddress) address = g_socket_get_local_address (socket, NULL);

  if (address != NULL && G_IS_INET_SOCKET_ADDRESS (address))
    {
      GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (address);
      g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (inet));

      g_printerr ("agentexec serve: listening on http://%s%s%s:%u (%s backend, socket from "
                  "systemd)\n",
                  strchr (host, ':') != NULL ? "[" : "", host,
                  strchr (host, ':') != NULL ? "]" : "", g_inet_socket_address_get_port (inet),
                  backend);
    }
  else if (address != NULL && G_IS_UNIX_SOCKET_ADDRESS (address))
    g_printerr ("agentexec serve: listening on unix:%s (%s backend, socket from systemd)\n",
                g_unix_socket_address_get_path (G_UNIX_SOCKET_ADDRESS (address)), backend);
  else
    g_printerr ("agentexec serve: listening on the socket from systemd (%s backend)\n", backend);
}

static int
command_serve (int argc, char **argv)
{
  g_auto (Options) options = { 0 };
  ServeOptions serve = { 0 };
  AgentExecServerOptions server_options = { 0 };
  g_autoptr (AgentExecCodeExecutor) executor = NULL;
  g_autoptr (AgentExecServer) server = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  g_autofree char *token = NULL;
  g_autoptr (GSocket) api_socket = NULL;
  g_autoptr (GSocket) health_socket = NULL;
  gboolean activated = FALSE;
  guint port, term_id, int_id;
  int status = 0;

  if (!parse_serve (&argc, &argv, &options, &serve))
    return EXIT_USAGE;
  if (!_agentexec_server_activation_take (&activated, &api_socket, &health_socket, &error))
    return report_error ("cannot use the sockets systemd passed", error);
  if (activated && (serve.listen != NULL || serve.health_port >= 0))
    {
      g_printerr ("agentexec serve: systemd passed the listening sockets: --listen and "
                  "--health-port do not apply (set ListenStream= in the socket unit)\n");
      return EXIT_USAGE;
    }
  if (serve.health_port < 0)
    serve.health_port = AGENTEXEC_SERVER_HEALTH_PORT;
  if (!split_listen (serve.listen != NULL ? serve.listen : "127.0.0.1:49999", &host, &port))
    {
      g_printerr ("agentexec serve: --listen takes ADDR:PORT, e.g. 127.0.0.1:49999\n");
      return EXIT_USAGE;
    }
  if (!read_serve_token (&serve, &token))
    return EXIT_USAGE;
  if ((executor = new_serve_executor (&options, &serve, &error)) == NULL)
    return report_error ("cannot use the backend", error);
  server_options.token = token;
  server_options.max_contexts = serve.max_contexts;
  server_options.max_executions = serve.max_executions;
  server_options.context_idle_s = serve.idle_s;
  server_options.max_code_bytes = serve.max_code_bytes;
  server_options.timeout_ms = (guint) (options.timeout_s * 1000.0);
  server_options.access_log = !serve.no_access_log;
  server = _agentexec_server_new (executor, &server_options);
  if (activated)
    {
      if (!_agentexec_server_listen_sockets (server, api_socket, health_socket, &error))
        return report_error ("cannot serve", error);
      print_listening (api_socket, options.backend);
    }
  else
    {
      if (!_agentexec_server_listen (server, host, port, serve.health_port, &error))
        return report_error ("cannot serve", error);
      g_printerr ("agentexec serve: listening on http://%s:%u (%s backend)\n",
                  strchr (host, ':') != NULL ? "[::]" : host, _agentexec_server_get_port (server),
                  options.backend);
    }
  serve_loop = g_main_loop_new (NULL, FALSE);
  term_id = g_unix_signal_add (SIGTERM, on_serve_signal, server);
  int_id = g_unix_signal_add (SIGINT, on_serve_signal, server);
  g_main_loop_run (serve_loop);
  g_clear_pointer (&serve_loop, g_main_loop_unref);
  g_source_remove (term_id);
  g_source_remove (int_id);
  /* libsoup finishes closing the connections in idle callbacks. */
  g_clear_object (&server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_printerr ("agentexec serve: stopped\n");
  g_free (serve.listen);
  g_free (serve.token_file);
  g_free (serve.token_env);
  return status;
}

static void
usage (FILE *out)
{
  g_autofree char *list = backend_list ();

  fprintf (out,
           "Usage:\n"
           "  agentexec run [--backend NAME] [--language LANG] [--timeout SECONDS] [--stateful]\n"
           "                [--no-sandbox --allow-unsafe] [--output-dir DIR] FILE|-\n"
           "  agentexec reply [--backend NAME] [--timeout SECONDS] [--stateful]\n"
           "                  [--no-sandbox --allow-unsafe] [--output-dir DIR] FILE|-\n"
           "  agentexec serve [--listen ADDR:PORT] [--backend container|local|kubernetes]\n"
           "                  [--token-file FILE | --token-env NAME] [--max-contexts N]\n"
           "                  [--context-idle-timeout S] [--max-code-bytes N]\n"
           "                  [--no-sandbox --allow-unsafe]\n"
           "  agentexec --help | --version\n"
           "\n"
           "run    runs the code of FILE (- for standard input), streaming its output;\n"
           "       the exit status is the code's (124: timeout, 130: interrupted)\n"
           "reply  extracts the fenced code blocks of a model reply, runs them in order and\n"
           "       prints each result as ADK hands it back to the model (```tool_output)\n"
           "serve  serves E2B's code-interpreter API on 127.0.0.1:49999 (and /health on\n"
           "       :49983): E2B's SDKs in debug mode run their code on the chosen backend\n"
           "\n"
           "%s"
           "\n"
           "Languages: python, javascript, bash, r, java (aliases such as py, js, sh).\n"
           "`agentexec COMMAND --help` lists every option.\n",
           list);
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      usage (stderr);
      return EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      usage (stdout);
      return 0;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("agentexec %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (g_str_equal (argv[1], "run"))
    return command_run (argc, argv);
  if (g_str_equal (argv[1], "reply"))
    return command_reply (argc, argv);
  if (g_str_equal (argv[1], "serve"))
    return command_serve (argc, argv);
  g_printerr ("agentexec: unknown command “%s”: use run, reply or serve (see agentexec --help)\n",
              argv[1]);
  return EXIT_USAGE;
}
