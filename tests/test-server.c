/* test-server.c: `agentexec serve` over HTTP, driven by libsoup's client
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts the real program (the local backend) on a free port and
 * talks to it as a hostile or careless client would: bad JSON, oversize
 * bodies, unknown contexts, wrong tokens, a client that disconnects in the
 * middle of a run, a reader that never reads, SIGTERM while code runs.
 */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "agentexec-test-procs.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

typedef struct
{
  GSubprocess *proc;
  char *log_path;
  char *token_path;
  guint port;
  SoupSession *session;
} Server;

static char *
server_log (Server *server)
{
  char *text = NULL;

  g_file_get_contents (server->log_path, &text, NULL, NULL);
  return text != NULL ? text : g_strdup ("");
}

/* A server outlives no test: it gets SIGTERM when the test process dies. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
server_start (Server *server, const char *const *extra)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *program =
      g_build_filename (g_getenv ("AGENTEXEC_BUILD_DIR"), "tools", "agentexec", NULL);
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  int fd;

  fd = g_file_open_tmp ("agentexec-serve-XXXXXX.log", &server->log_path, &error);
  g_assert_no_error (error);
  close (fd);
  g_subprocess_launcher_set_stderr_file_path (launcher, server->log_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_ptr_array_add (argv, program);
  for (const char *const *a = (const char *const[]){ "serve", "--backend", "local", "--listen",
                                                     "127.0.0.1:0", "--health-port", "0", NULL };
       *a != NULL; a++)
    g_ptr_array_add (argv, (char *) *a);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra[i]);
  g_ptr_array_add (argv, NULL);
  server->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);

  while (server->port == 0 && g_get_monotonic_time () < deadline)
    {
      g_autofree char *log = server_log (server);
      const char *at = strstr (log, "listening on http://127.0.0.1:");

      if (at != NULL)
        server->port =
            (guint) g_ascii_strtoull (at + strlen ("listening on http://127.0.0.1:"), NULL, 10);
      else
        g_usleep (10000);
    }
  g_assert_cmpuint (server->port, >, 0);
  server->session = soup_session_new_with_options ("timeout", 60, NULL);
}

/* The server started the way systemd's socket activation starts it:
 * systemd-socket-activate (from systemd) listens on @ports (the first named
 * "api", the second "health"), and execs the server, passing the sockets as
 * fds 3 and 4 with LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, at the first
 * connection. */
static void
server_start_activated (Server *server,
                        const char *address,
                        const guint *ports,
                        guint n_ports,
                        const char *const *extra)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *activate = g_find_program_in_path ("systemd-socket-activate");
  int fd;

  if (activate == NULL)
    {
      /* scripts/setup.sh installs systemd; CI must not skip. */
      if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
        g_error ("systemd-socket-activate is missing (apt-get install systemd)");
      g_test_skip ("systemd-socket-activate is missing (apt-get install systemd)");
      return;
    }
  fd = g_file_open_tmp ("agentexec-serve-XXXXXX.log", &server->log_path, &error);
  g_assert_no_error (error);
  close (fd);
  g_subprocess_launcher_set_stderr_file_path (launcher, server->log_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_ptr_array_add (argv, g_steal_pointer (&activate));
  for (guint i = 0; i < n_ports; i++)
    g_ptr_array_add (argv, g_strdup_printf ("--listen=%s:%u", address, ports[i]));
  g_ptr_array_add (argv, g_strdup (n_ports > 1 ? "--fdname=api:health" : "--fdname=api"));
  g_ptr_array_add (argv,
                   g_build_filename (g_getenv ("AGENTEXEC_BUILD_DIR"), "tools", "agentexec", NULL));
  for (const char *const *a = (const char *const[]){ "serve", "--backend", "local", NULL };
       *a != NULL; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (extra[i]));
  g_ptr_array_add (argv, NULL);
  server->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  server->port = ports[0];
  /* It says so once each socket listens; connecting then starts the server. */
  for (gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
       g_get_monotonic_time () < deadline;)
    {
      g_autofree char *log = server_log (server);
      guint listening = 0;

      for (const char *at = strstr (log, "Listening on "); at != NULL;
           at = strstr (at + 1, "Listening on "))
        listening++;
      if (listening >= n_ports)
        break;
      g_usleep (10000);
    }
  server->session = soup_session_new_with_options ("timeout", 60, NULL);
}

static int
server_stop (Server *server)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_clear_object (&server->session);
  g_subprocess_send_signal (server->proc, SIGTERM);
  g_subprocess_wait (server->proc, NULL, &error);
  g_assert_no_error (error);
  status = g_subprocess_get_if_exited (server->proc)
               ? g_subprocess_get_exit_status (server->proc)
               : 128 + g_subprocess_get_term_sig (server->proc);
  g_clear_object (&server->proc);
  if (g_getenv ("AGENTEXEC_KEEP_SERVER_LOG") == NULL)
    g_unlink (server->log_path);
  g_clear_pointer (&server->log_path, g_free);
  if (server->token_path != NULL)
    g_unlink (server->token_path);
  g_clear_pointer (&server->token_path, g_free);
  return status;
}

typedef struct
{
  guint status;
  char *body;
  gsize len;
} Reply;

static void
reply_clear (Reply *reply)
{
  g_clear_pointer (&reply->body, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Reply, reply_clear)

static SoupMessage *
new_message (
    Server *server, const char *method, const char *path, const char *body, const char *token)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", server->port, path);
  SoupMessage *msg = soup_message_new (method, url);

  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  if (token != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
                                  "E2B-Traffic-Access-Token", token);
  return msg;
}

static void
request (Server *server,
         const char *method,
         const char *path,
         const char *body,
         const char *token,
         Reply *reply)
{
  g_autoptr (SoupMessage) msg = new_message (server, method, path, body, token);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = soup_session_send_and_read (server->session, msg, NULL, &error);

  g_assert_no_error (error);
  reply->status = soup_message_get_status (msg);
  reply->body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  reply->len = g_bytes_get_size (bytes);
}

/* Checks an /execute body line by line: ASCII JSON objects, no blank line,
 * end_of_execution last. Returns the lines. */
static GPtrArray *
parse_stream (const char *body, gsize len)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_auto (GStrv) lines = NULL;
  guint n;

  for (gsize i = 0; i < len; i++)
    g_assert_cmpint ((guchar) body[i], <, 0x80);
  g_assert_true (len > 0 && body[len - 1] == '\n');
  lines = g_strsplit (body, "\n", -1);
  n = g_strv_length (lines);
  g_assert_cmpstr (lines[n - 1], ==, "");
  for (guint i = 0; i + 1 < n; i++)
    {
      g_autoptr (GError) error = NULL;
      JsonNode *node = json_from_string (lines[i], &error);

      g_assert_no_error (error);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
      g_ptr_array_add (events, node);
    }
  g_assert_cmpuint (events->len, >, 0);
  return events;
}

static const char *
event_type (GPtrArray *events, guint i)
{
  return json_object_get_string_member (json_node_get_object (g_ptr_array_index (events, i)),
                                        "type");
}

static char *
joined (GPtrArray *events, const char *type)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < events->len; i++)
    if (g_str_equal (event_type (events, i), type))
      g_string_append (text, json_object_get_string_member (
                                 json_node_get_object (g_ptr_array_index (events, i)), "text"));
  return g_string_free (text, FALSE);
}

/* The access log: one JSON object per line, naming the request. */
static void
check_access_log (Server *server, const char *path, guint status)
{
  g_autofree char *log = NULL;
  g_auto (GStrv) lines = NULL;
  gboolean found = FALSE;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (!found && g_get_monotonic_time () < deadline)
    {
      g_free (log);
      g_strfreev (lines);
      log = server_log (server);
      lines = g_strsplit (log, "\n", -1);
      for (guint i = 0; lines[i] != NULL && !found; i++)
        {
          g_autoptr (JsonNode) node = lines[i][0] == '{' ? json_from_string (lines[i], NULL) : NULL;
          JsonObject *object = node != NULL ? json_node_get_object (node) : NULL;

          found = object != NULL && json_object_has_member (object, "time") &&
                  json_object_has_member (object, "duration_us") &&
                  g_strcmp0 (json_object_get_string_member (object, "remote"), "127.0.0.1") == 0 &&
                  g_strcmp0 (json_object_get_string_member (object, "path"), path) == 0 &&
                  json_object_get_int_member (object, "status") == status;
        }
      if (!found)
        g_usleep (20000);
    }
  g_assert_true (found);
}

static void
test_execute_stream (void)
{
  Server server = { 0 };
  g_auto (Reply) reply = { 0 };
  g_autoptr (GPtrArray) events = NULL;
  g_autofree char *out = NULL;

  server_start (&server, NULL);
  request (&server, "POST", "/execute?source=test",
           "{\"code\": \"print('caf\\u00e9 \\ud83d\\ude00')\\n6 * 7\", \"context_id\": null, "
           "\"language\": null, \"env_vars\": null}",
           NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  events = parse_stream (reply.body, reply.len);
  g_assert_cmpstr (event_type (events, 0), ==, "number_of_executions");
  g_assert_cmpstr (event_type (events, events->len - 1), ==, "end_of_execution");
  out = joined (events, "stdout");
  g_assert_cmpstr (out, ==, "caf\xc3\xa9 \xf0\x9f\x98\x80\n");
  check_access_log (&server, "/execute", 200);
  g_assert_nonnull (strstr (reply.body, "\"text\":\"42\",\"is_main_result\":true"));
  g_assert_cmpint (server_stop (&server), ==, 0);
}

static void
test_bad_requests (void)
{
  Server server = { 0 };
  static const struct
  {
    const char *method, *path, *body;
    guint status;
    const char *says;
  } cases[] = {
    { "POST", "/execute", "{", 400, "JSON" },
    { "POST", "/execute", "[1, 2]", 400, "JSON object" },
    { "POST", "/execute", "", 400, "JSON" },
    { "POST", "/execute", "{\"language\": \"python\"}", 400, "code" },
    { "POST", "/execute", "{\"code\": 12}", 400, "string" },
    { "POST", "/execute", "{\"code\": \"1\", \"env_vars\": {\"A B\": \"x\"}}", 400, "env_vars" },
    { "POST", "/execute", "{\"code\": \"1\", \"env_vars\": {\"A\": 1}}", 400, "env_vars" },
    { "POST", "/execute", "{\"code\": \"1\", \"language\": \"cobol\"}", 400, "cobol" },
    { "POST", "/execute", "{\"code\": \"1\", \"context_id\": \"nope\"}", 404, "not found" },
    { "POST", "/execute", "{\"code\": \"1\", \"context_id\": \"c\", \"language\": \"python\"}", 400,
      "not both" },
    { "GET", "/execute", NULL, 405, "not allowed" },
    { "DELETE", "/contexts/nope", NULL, 404, "not found" },
    { "POST", "/contexts/nope/restart", NULL, 404, "not found" },
    { "PUT", "/contexts/nope", NULL, 405, "DELETE" },
    { "POST", "/contexts", "{\"language\": 3}", 400, "string" },
    { "POST", "/contexts", "{\"language\": \"python\", \"cwd\": \"/no/such/dir\"}", 400,
      "/no/such/dir" },
    { "GET", "/nowhere", NULL, 404, "No such endpoint" },
  };

  server_start (&server, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (Reply) reply = { 0 };

      request (&server, cases[i].method, cases[i].path, cases[i].body, NULL, &reply);
      g_test_message ("%s %s %s → %u %s", cases[i].method, cases[i].path, cases[i].body,
                      reply.status, reply.body);
      g_assert_cmpuint (reply.status, ==, cases[i].status);
      g_assert_nonnull (strstr (reply.body, cases[i].says));
    }
  {
    g_auto (Reply) list = { 0 };

    request (&server, "GET", "/contexts", NULL, NULL, &list);
    g_assert_cmpuint (list.status, ==, 200);
    g_assert_cmpstr (list.body, ==, "[]\n"); /* the failed creation left nothing */
  }
  g_assert_cmpint (server_stop (&server), ==, 0);
}

static void
test_oversize (void)
{
  Server server = { 0 };
  const char *extra[] = { "--max-code-bytes", "1000", NULL };
  g_autoptr (GString) big = g_string_new ("{\"code\": \"");
  g_autoptr (GString) over = g_string_new ("{\"code\": \"");
  g_auto (Reply) reply = { 0 };
  g_auto (Reply) reply2 = { 0 };
  g_auto (Reply) ok = { 0 };

  server_start (&server, extra);
  for (int i = 0; i < 200000; i++)
    g_string_append_c (big, 'x');
  g_string_append (big, "\"}");
  request (&server, "POST", "/execute", big->str, NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 413);
  g_assert_nonnull (strstr (reply.body, "--max-code-bytes"));
  /* Within the body limit, but the code itself is too long. */
  for (int i = 0; i < 1500; i++)
    g_string_append_c (over, '#');
  g_string_append (over, "\"}");
  request (&server, "POST", "/execute", over->str, NULL, &reply2);
  g_assert_cmpuint (reply2.status, ==, 413);
  g_assert_nonnull (strstr (reply2.body, "1500 bytes"));
  request (&server, "POST", "/execute", "{\"code\": \"print(1)\"}", NULL, &ok);
  g_assert_cmpuint (ok.status, ==, 200);
  g_assert_cmpint (server_stop (&server), ==, 0);
}

static void
test_token (void)
{
  Server server = { 0 };
  const char *extra[3] = { "--token-file", NULL, NULL };
  g_autoptr (GError) error = NULL;
  int fd = g_file_open_tmp ("agentexec-token-XXXXXX", &server.token_path, &error);
  g_auto (Reply) none = { 0 };
  g_auto (Reply) wrong = { 0 };
  g_auto (Reply) shorter = { 0 };
  g_auto (Reply) right = { 0 };
  g_auto (Reply) health = { 0 };

  g_assert_no_error (error);
  g_assert_cmpint (write (fd, TOKEN "\n", strlen (TOKEN) + 1), ==, strlen (TOKEN) + 1);
  close (fd);
  extra[1] = server.token_path;
  server_start (&server, extra);
  request (&server, "POST", "/execute", "{\"code\": \"1\"}", NULL, &none);
  g_assert_cmpuint (none.status, ==, 401);
  g_assert_nonnull (strstr (none.body, "E2B-Traffic-Access-Token"));
  request (&server, "GET", "/contexts", NULL, TOKEN "x", &wrong);
  g_assert_cmpuint (wrong.status, ==, 401);
  request (&server, "GET", "/contexts", NULL, "0123", &shorter);
  g_assert_cmpuint (shorter.status, ==, 401);
  request (&server, "GET", "/contexts", NULL, TOKEN, &right);
  g_assert_cmpuint (right.status, ==, 200);
  request (&server, "GET", "/health", NULL, NULL, &health);
  g_assert_cmpuint (health.status, ==, 200);
  g_assert_cmpint (server_stop (&server), ==, 0);
}

/* --token-env: the token from the environment; the variable is gone before
 * any code runs (the code cannot read it), and a missing or short one is
 * refused at start. */
static void
test_token_env (void)
{
  Server server = { 0 };
  const char *extra[] = { "--token-env", "AGENTEXEC_TEST_SERVE_TOKEN", NULL };
  g_autofree char *program =
      g_build_filename (g_getenv ("AGENTEXEC_BUILD_DIR"), "tools", "agentexec", NULL);
  const char *argv[] = {
    program,       "serve",         "--backend", "local",       "--listen",
    "127.0.0.1:0", "--health-port", "0",         "--token-env", "AGENTEXEC_TEST_SERVE_TOKEN",
    NULL
  };
  g_auto (Reply) none = { 0 };
  g_auto (Reply) right = { 0 };
  g_autoptr (GPtrArray) events = NULL;
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;

  g_setenv ("AGENTEXEC_TEST_SERVE_TOKEN", TOKEN, TRUE);
  server_start (&server, extra);
  g_unsetenv ("AGENTEXEC_TEST_SERVE_TOKEN");
  request (&server, "POST", "/execute", "{\"code\": \"1\"}", NULL, &none);
  g_assert_cmpuint (none.status, ==, 401);
  request (&server, "POST", "/execute",
           "{\"code\": \"import os; print(repr(os.environ.get('AGENTEXEC_TEST_SERVE_TOKEN')))\"}",
           TOKEN, &right);
  g_assert_cmpuint (right.status, ==, 200);
  /* print() writes its pieces apart; they may come as several events. */
  events = parse_stream (right.body, right.len);
  out = joined (events, "stdout");
  g_assert_cmpstr (out, ==, "None\n");
  g_assert_null (strstr (right.body, TOKEN));
  g_assert_cmpint (server_stop (&server), ==, 0);

  for (int attempt = 0; attempt < 2; attempt++)
    {
      g_autofree char *err = NULL;
      int status;

      if (attempt == 1)
        g_setenv ("AGENTEXEC_TEST_SERVE_TOKEN", "short", TRUE);
      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                    &status, &error);
      g_assert_no_error (error);
      g_assert_false (g_spawn_check_wait_status (status, NULL));
      g_assert_nonnull (
          strstr (err, attempt == 0 ? "no such environment variable" : "at least 16 characters"));
      g_assert_null (strstr (err, "listening"));
    }
  g_unsetenv ("AGENTEXEC_TEST_SERVE_TOKEN");
}

/* Without a token the server refuses an address other machines reach. */
static void
test_refuse_public (void)
{
  g_autofree char *program =
      g_build_filename (g_getenv ("AGENTEXEC_BUILD_DIR"), "tools", "agentexec", NULL);
  const char *argv[] = { program,    "serve",     "--backend",     "local", "--allow-unsafe",
                         "--listen", "0.0.0.0:0", "--health-port", "0",     NULL };
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                &status, &error);
  g_assert_no_error (error);
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (err, "without a token"));
  g_assert_nonnull (strstr (err, "--token-file"));
}

/* A raw connection, to disconnect or stop reading at will. */
static GSocketConnection *
raw_execute (Server *server, const char *body)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *head = NULL;

  g_socket_client_set_enable_proxy (client, FALSE);
  GSocketConnection *connection;
  GOutputStream *out;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", server->port, NULL, &error);
  g_assert_no_error (error);
  head = g_strdup_printf ("POST /execute HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                          "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                          strlen (body), body);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_output_stream_write_all (out, head, strlen (head), NULL, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

/* Reads until @needle was received; returns what was read. */
static char *
read_until (GSocketConnection *connection, const char *needle)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GString *text = g_string_new (NULL);
  char buffer[4096];

  while (strstr (text->str, needle) == NULL)
    {
      g_autoptr (GError) error = NULL;
      gssize got = g_input_stream_read (in, buffer, sizeof buffer, NULL, &error);

      g_assert_no_error (error);
      if (got == 0)
        break;
      g_string_append_len (text, buffer, got);
    }
  return g_string_free (text, FALSE);
}

/* A marker for the processes of one run: the code starts a shell whose
 * command line carries it (the code itself runs in a pid namespace, so the
 * pid it would print means nothing here). */
static char *
new_marker (void)
{
  static guint counter;

  return g_strdup_printf ("agentexec-server-test-%d-%u", (int) getpid (), ++counter);
}

/* The body of an execution that prints "started" and then waits two
 * minutes in a shell that carries @marker. */
static char *
sleeper_body (const char *marker, const char *context_id)
{
  return g_strdup_printf ("{\"code\": \"import subprocess\\nv = 1\\n"
                          "p = subprocess.Popen(['/bin/sh', '-c', 'sleep 120; : %s'])\\n"
                          "print('started', flush=True)\\np.wait()\"%s%s%s}",
                          marker, context_id != NULL ? ", \"context_id\": \"" : "",
                          context_id != NULL ? context_id : "", context_id != NULL ? "\"" : "");
}

/* Waits (generously) until no process carries @marker. */
static gboolean
wait_gone (const char *marker)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      if (!agentexec_test_command_alive (marker))
        return TRUE;
      g_usleep (20000);
    }
  return FALSE;
}

static void
test_disconnect (void)
{
  Server server = { 0 };
  g_autoptr (GSocketConnection) connection = NULL;
  g_autofree char *seen = NULL;
  g_auto (Reply) after = { 0 };
  g_autofree char *marker = new_marker ();
  g_autofree char *sleeper = sleeper_body (marker, NULL);
  gint64 start;

  server_start (&server, NULL);
  connection = raw_execute (&server, sleeper);
  seen = read_until (connection, "started\\n\",\"timestamp\"");
  g_assert_true (agentexec_test_command_alive (marker));
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_assert_true (wait_gone (marker));
  /* The same (default) context takes the next execution at once. */
  start = g_get_monotonic_time ();
  request (&server, "POST", "/execute", "{\"code\": \"'after'\"}", NULL, &after);
  g_assert_cmpuint (after.status, ==, 200);
  g_assert_nonnull (strstr (after.body, "\"text\":\"'after'\""));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 60 * G_USEC_PER_SEC);
  g_assert_cmpint (server_stop (&server), ==, 0);
}

/* A client that never reads 20 MB of output does not hold up another. */
static void
test_slow_reader (void)
{
  Server server = { 0 };
  g_autoptr (GSocketConnection) connection = NULL;
  g_auto (Reply) other = { 0 };
  g_auto (Reply) created = { 0 };
  g_autoptr (JsonNode) context = NULL;
  g_autofree char *body = NULL;

  server_start (&server, NULL);
  connection = raw_execute (&server, "{\"code\": \"import sys\\nfor i in range(2000):\\n    "
                                     "sys.stdout.write('y' * 10000)\\n\"}");
  request (&server, "POST", "/contexts", "{\"language\": \"python\"}", NULL, &created);
  g_assert_cmpuint (created.status, ==, 200);
  context = json_from_string (created.body, NULL);
  body = g_strdup_printf ("{\"code\": \"'quick'\", \"context_id\": \"%s\"}",
                          json_object_get_string_member (json_node_get_object (context), "id"));
  request (&server, "POST", "/execute", body, NULL, &other);
  g_assert_cmpuint (other.status, ==, 200);
  g_assert_nonnull (strstr (other.body, "\"text\":\"'quick'\""));
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_assert_cmpint (server_stop (&server), ==, 0);
}

static void
test_sigterm (void)
{
  Server server = { 0 };
  g_autoptr (GSocketConnection) connection = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *rest = NULL;
  g_autofree char *log = NULL;
  g_autofree char *marker = new_marker ();
  g_autofree char *sleeper = sleeper_body (marker, NULL);
  gint64 start;

  server_start (&server, NULL);
  connection = raw_execute (&server, sleeper);
  seen = read_until (connection, "started\\n\",\"timestamp\"");
  g_assert_true (agentexec_test_command_alive (marker));
  start = g_get_monotonic_time ();
  g_subprocess_send_signal (server.proc, SIGTERM);
  /* The stream ends properly: an error line, then end_of_execution. */
  rest = read_until (connection, "end_of_execution");
  g_assert_nonnull (strstr (rest, "\"name\":\"ExecutionCancelled\""));
  g_assert_nonnull (strstr (rest, "end_of_execution"));
  g_assert_true (g_subprocess_wait (server.proc, NULL, NULL));
  g_assert_true (g_subprocess_get_if_exited (server.proc));
  if (g_subprocess_get_exit_status (server.proc) != 0)
    {
      g_autofree char *failed = server_log (&server);

      g_test_message ("the server's log:\n%s", failed);
    }
  g_assert_cmpint (g_subprocess_get_exit_status (server.proc), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 15 * G_USEC_PER_SEC);
  g_assert_true (wait_gone (marker));
  log = server_log (&server);
  g_assert_nonnull (strstr (log, "stopped"));
  g_assert_cmpint (server_stop (&server), ==, 0);
}

static void
test_limits (void)
{
  Server server = { 0 };
  const char *extra[] = { "--max-executions", "1", "--max-contexts", "2", NULL };
  g_autoptr (GSocketConnection) connection = NULL;
  g_autofree char *seen = NULL;
  g_auto (Reply) busy = { 0 };
  g_auto (Reply) c1 = { 0 };
  g_auto (Reply) c2 = { 0 };
  g_autofree char *marker = new_marker ();
  g_autofree char *sleeper = sleeper_body (marker, NULL);

  server_start (&server, extra);
  connection = raw_execute (&server, sleeper);
  seen = read_until (connection, "started\\n\",\"timestamp\"");
  request (&server, "POST", "/execute", "{\"code\": \"1\", \"language\": \"bash\"}", NULL, &busy);
  g_assert_cmpuint (busy.status, ==, 429);
  g_assert_nonnull (strstr (busy.body, "--max-executions"));
  request (&server, "POST", "/contexts", "{\"language\": \"bash\"}", NULL, &c1);
  g_assert_cmpuint (c1.status, ==, 200); /* python's default + this one */
  request (&server, "POST", "/contexts", "{\"language\": \"bash\"}", NULL, &c2);
  g_assert_cmpuint (c2.status, ==, 429);
  g_assert_nonnull (strstr (c2.body, "--max-contexts"));
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_assert_cmpint (server_stop (&server), ==, 0);
}

static char *
create_context (Server *server, const char *language)
{
  g_auto (Reply) created = { 0 };
  g_autofree char *body = g_strdup_printf ("{\"language\": \"%s\"}", language);
  g_autoptr (JsonNode) node = NULL;

  request (server, "POST", "/contexts", body, NULL, &created);
  g_assert_cmpuint (created.status, ==, 200);
  node = json_from_string (created.body, NULL);
  return g_strdup (json_object_get_string_member (json_node_get_object (node), "id"));
}

/* A restart cancels the run in progress (its stream still ends properly). */
static void
test_restart_running (void)
{
  Server server = { 0 };
  g_autofree char *id = NULL;
  g_autofree char *body = NULL;
  g_autofree char *path = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *rest = NULL;
  g_autoptr (GSocketConnection) connection = NULL;
  g_auto (Reply) restarted = { 0 };
  g_auto (Reply) after = { 0 };
  g_autofree char *marker = new_marker ();

  server_start (&server, NULL);
  id = create_context (&server, "python");
  body = sleeper_body (marker, id);
  connection = raw_execute (&server, body);
  seen = read_until (connection, "started\\n\",\"timestamp\"");
  g_assert_true (agentexec_test_command_alive (marker));
  path = g_strdup_printf ("/contexts/%s/restart", id);
  request (&server, "POST", path, NULL, NULL, &restarted);
  g_assert_cmpuint (restarted.status, ==, 204);
  rest = read_until (connection, "end_of_execution");
  g_assert_nonnull (strstr (rest, "\"name\":\"ExecutionCancelled\""));
  g_assert_true (wait_gone (marker));
  g_free (body);
  body = g_strdup_printf ("{\"code\": \"'v' in globals()\", \"context_id\": \"%s\"}", id);
  request (&server, "POST", "/execute", body, NULL, &after);
  g_assert_nonnull (strstr (after.body, "\"text\":\"False\""));
  g_assert_cmpint (server_stop (&server), ==, 0);
}

/* --context-idle-timeout removes contexts nobody used for that long. */
static void
test_idle_contexts (void)
{
  Server server = { 0 };
  const char *extra[] = { "--context-idle-timeout", "1", NULL };
  g_autofree char *id = NULL;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  gboolean gone = FALSE;

  server_start (&server, extra);
  id = create_context (&server, "bash");
  while (!gone && g_get_monotonic_time () < deadline)
    {
      g_auto (Reply) list = { 0 };

      request (&server, "GET", "/contexts", NULL, NULL, &list);
      gone = strstr (list.body, id) == NULL;
      if (!gone)
        g_usleep (100000);
    }
  g_assert_true (gone);
  g_assert_cmpint (server_stop (&server), ==, 0);
}

/* --timeout: the server's own limit ends a run with a TimeoutError line. */
static void
test_server_timeout (void)
{
  Server server = { 0 };
  const char *extra[] = { "--timeout", "1", NULL };
  g_auto (Reply) slow = { 0 };
  g_auto (Reply) after = { 0 };
  g_autoptr (GPtrArray) events = NULL;

  server_start (&server, extra);
  request (&server, "POST", "/execute", "{\"code\": \"import time\\ntime.sleep(60)\"}", NULL,
           &slow);
  g_assert_cmpuint (slow.status, ==, 200);
  events = parse_stream (slow.body, slow.len);
  g_assert_cmpstr (event_type (events, events->len - 1), ==, "end_of_execution");
  g_assert_nonnull (strstr (slow.body, "\"name\":\"TimeoutError\""));
  g_assert_nonnull (strstr (slow.body, "1000 ms"));
  request (&server, "POST", "/execute", "{\"code\": \"2 + 2\"}", NULL, &after);
  g_assert_nonnull (strstr (after.body, "\"text\":\"4\""));
  g_assert_cmpint (server_stop (&server), ==, 0);
}

static guint
free_port (void)
{
  g_autoptr (GSocket) socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, any, TRUE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* The SDKs probe GET :49983/health (envd's port) after a reset connection. */
static void
test_health_port (void)
{
  Server server = { 0 };
  g_autofree char *port = g_strdup_printf ("%u", free_port ());
  const char *extra[] = { "--health-port", port, NULL };
  g_auto (Reply) health = { 0 };
  g_auto (Reply) other = { 0 };
  guint main_port;

  server_start (&server, extra);
  main_port = server.port;
  server.port = (guint) atoi (port);
  request (&server, "GET", "/health", NULL, NULL, &health);
  g_assert_cmpuint (health.status, ==, 200);
  request (&server, "POST", "/execute", "{\"code\": \"1\"}", NULL, &other);
  g_assert_cmpuint (other.status, ==, 404);
  server.port = main_port;
  g_assert_cmpint (server_stop (&server), ==, 0);
}

/* Clients that reset their connection at once (readiness probes do) are
 * not worth a warning: the access log says "remote": null, and libsoup's
 * "could not get remote address" is never logged. */
static void
test_reset_clients (void)
{
  Server server = { 0 };
  g_auto (Reply) health = { 0 };
  g_autofree char *log = NULL;
  static const char probe[] = "GET /health HTTP/1.1\r\nHost: probe\r\n\r\n";

  server_start (&server, NULL);
  for (int i = 0; i < 20; i++)
    {
      g_autoptr (GSocket) socket =
          g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
      g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, server.port);
      struct linger reset = { 1, 0 };
      g_autoptr (GError) error = NULL;

      g_assert_nonnull (socket);
      g_assert_true (g_socket_connect (socket, address, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (
          setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &reset, sizeof reset), ==,
          0);
      if (i % 2 == 0)
        g_socket_send (socket, probe, strlen (probe), NULL, NULL);
      g_socket_close (socket, NULL);
    }
  /* Answered in order on one main loop: once this is, the resets were seen. */
  request (&server, "GET", "/health", NULL, NULL, &health);
  g_assert_cmpuint (health.status, ==, 200);
  log = server_log (&server);
  g_assert_null (strstr (log, "could not get remote address"));
  g_assert_null (strstr (log, "WARNING"));
  g_assert_cmpint (server_stop (&server), ==, 0);
}

/* Socket activation: the server answers on the sockets it was given (the
 * API on one, GET /health on the other), binds nothing itself, and the
 * code it runs does not see the LISTEN_* variables. */
static void
test_socket_activation (void)
{
  Server server = { 0 };
  guint ports[2] = { free_port (), free_port () };
  g_auto (Reply) health = { 0 };
  g_auto (Reply) run = { 0 };
  g_auto (Reply) health_only = { 0 };
  g_auto (Reply) other = { 0 };
  g_autoptr (GPtrArray) events = NULL;
  g_autofree char *out = NULL;
  g_autofree char *log = NULL;

  server_start_activated (&server, "127.0.0.1", ports, 2, NULL);
  if (server.proc == NULL)
    return;
  request (&server, "GET", "/health", NULL, NULL, &health);
  g_assert_cmpuint (health.status, ==, 200);
  request (&server, "POST", "/execute",
           "{\"code\": \"import os\\nprint(os.environ.get('LISTEN_FDS'), "
           "os.environ.get('LISTEN_PID'))\"}",
           NULL, &run);
  g_assert_cmpuint (run.status, ==, 200);
  /* print() writes "None", " ", "None" and "\n" apart (PYTHONUNBUFFERED):
   * they may arrive as several stdout events. */
  events = parse_stream (run.body, run.len);
  out = joined (events, "stdout");
  g_assert_cmpstr (out, ==, "None None\n");
  server.port = ports[1];
  request (&server, "GET", "/health", NULL, NULL, &health_only);
  g_assert_cmpuint (health_only.status, ==, 200);
  request (&server, "POST", "/execute", "{\"code\": \"1\"}", NULL, &other);
  g_assert_cmpuint (other.status, ==, 404);
  server.port = ports[0];
  log = server_log (&server);
  g_assert_nonnull (strstr (log, "socket from systemd"));
  g_assert_null (strstr (log, "WARNING"));
  g_assert_cmpint (server_stop (&server), ==, 0);
}

/* What cannot work is refused at start, with a message: --listen beside
 * passed sockets; a socket off loopback without a token. */
static void
test_socket_activation_refused (void)
{
  struct
  {
    const char *address;
    const char *extra[3];
    const char *message;
  } cases[] = {
    { "127.0.0.1", { "--listen", "127.0.0.1:0", NULL }, "--listen and --health-port do not apply" },
    { "0.0.0.0", { NULL }, "without a token" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Server server = { 0 };
      guint port = free_port ();
      g_autoptr (GSocketClient) client = g_socket_client_new ();
      g_autoptr (GSocketConnection) connection = NULL;
      g_autofree char *log = NULL;

      server_start_activated (&server, cases[i].address, &port, 1, cases[i].extra);
      if (server.proc == NULL)
        return;
      /* The first connection starts it; it then exits without serving. */
      connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
      g_assert_true (g_subprocess_wait (server.proc, NULL, NULL));
      g_assert_true (g_subprocess_get_if_exited (server.proc));
      g_assert_cmpint (g_subprocess_get_exit_status (server.proc), !=, 0);
      log = server_log (&server);
      g_assert_nonnull (strstr (log, cases[i].message));
      g_assert_null (strstr (log, "listening on http"));
      server_stop (&server);
    }
}

int
main (int argc, char **argv)
{
  /* No proxy look-up (it would read GSettings, absent in isolated dirs). */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/agentexec/server/execute/stream", test_execute_stream);
  g_test_add_func ("/agentexec/server/hostile/bad-requests", test_bad_requests);
  g_test_add_func ("/agentexec/server/hostile/oversize", test_oversize);
  g_test_add_func ("/agentexec/server/hostile/token", test_token);
  g_test_add_func ("/agentexec/server/hostile/token-env", test_token_env);
  g_test_add_func ("/agentexec/server/hostile/reset-clients", test_reset_clients);
  g_test_add_func ("/agentexec/server/socket-activation/serve", test_socket_activation);
  g_test_add_func ("/agentexec/server/socket-activation/refused", test_socket_activation_refused);
  g_test_add_func ("/agentexec/server/hostile/refuse-public", test_refuse_public);
  g_test_add_func ("/agentexec/server/hostile/disconnect", test_disconnect);
  g_test_add_func ("/agentexec/server/hostile/slow-reader", test_slow_reader);
  g_test_add_func ("/agentexec/server/hostile/limits", test_limits);
  g_test_add_func ("/agentexec/server/sigterm", test_sigterm);
  g_test_add_func ("/agentexec/server/health-port", test_health_port);
  g_test_add_func ("/agentexec/server/timeout", test_server_timeout);
  g_test_add_func ("/agentexec/server/contexts/restart-running", test_restart_running);
  g_test_add_func ("/agentexec/server/contexts/idle-timeout", test_idle_contexts);
  return g_test_run ();
}
