/* test-local-sandbox.c: the Local backend's kernel sandbox, attacked
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every case runs as the caller running the suite: scripts/test.sh runs it
 * as root and again as an ordinary user (then the sandbox has a user
 * namespace). The code under attack is Python (Debian's /usr/bin/python3,
 * which has Matplotlib) and bash.
 */

#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libagentexec.h"
#include "agentexec-test-procs.h"
#include "agentexec-local-sandbox-private.h"

#define PYTHON "/usr/bin/python3"

static AgentExecLocalExecutor *
new_executor (gboolean stateful, gboolean network)
{
  g_autoptr (GError) error = NULL;
  AgentExecLocalExecutor *executor =
      g_initable_new (AGENTEXEC_TYPE_LOCAL_EXECUTOR, NULL, &error, "network", network, NULL);

  g_assert_no_error (error);
  g_assert_true (agentexec_local_executor_set_interpreter (executor, "python", PYTHON, &error));
  agentexec_base_executor_set_stateful (AGENTEXEC_BASE_EXECUTOR (executor), stateful);
  return executor;
}

static AgentExecExecutionResult *
run_input (AgentExecLocalExecutor *executor, AgentExecExecutionInput *input)
{
  g_autoptr (GError) error = NULL;
  AgentExecExecutionResult *result = agentexec_code_executor_execute_code (
      AGENTEXEC_CODE_EXECUTOR (executor), NULL, input, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static AgentExecExecutionResult *
run_code (AgentExecLocalExecutor *executor, const char *language, const char *code)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, language);

  agentexec_execution_input_set_timeout_ms (input, 60000);
  return run_input (executor, input);
}

/* Runs @code and checks it printed exactly @expected, with no stderr. */
static void
assert_prints (AgentExecLocalExecutor *executor,
               const char *language,
               const char *code,
               const char *expected)
{
  g_autoptr (AgentExecExecutionResult) result = run_code (executor, language, code);

  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, expected);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
}

static char *
new_marker (void)
{
  return g_strdup_printf ("agentexec-marker-%08x%08x", g_random_int (), g_random_int ());
}

static AgentExecFile *
find_file (AgentExecExecutionResult *result, const char *name)
{
  GPtrArray *files = agentexec_execution_result_get_output_files (result);

  for (guint i = 0; files != NULL && i < files->len; i++)
    if (g_str_equal (agentexec_file_get_name (g_ptr_array_index (files, i)), name))
      return g_ptr_array_index (files, i);
  return NULL;
}

/* The defaults */

static void
test_default (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecLocalExecutor) executor = agentexec_local_executor_new (FALSE, &error);
  AgentExecLocalSandbox mode = AGENTEXEC_LOCAL_SANDBOX_NONE;
  gboolean network = TRUE;

  g_assert_no_error (error);
  g_object_get (executor, "sandbox", &mode, "network", &network, NULL);
  g_assert_cmpint (mode, ==, AGENTEXEC_LOCAL_SANDBOX_NAMESPACES);
  g_assert_false (network);
  g_assert_true (agentexec_local_executor_set_interpreter (executor, "python", PYTHON, &error));
  /* Not root, no capability, no_new_privs, seccomp, own pid and uts ns. */
  assert_prints (executor, "python",
                 "import os\n"
                 "s = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read()"
                 ".splitlines() if ':\\t' in l)\n"
                 "print(os.getuid() != 0, os.geteuid() != 0, s['CapEff'], s['CapPrm'], "
                 "s['CapBnd'], s['CapAmb'], s['NoNewPrivs'], s['Seccomp'])\n"
                 "print(os.getpid() < 10, os.getppid(), os.uname().nodename)\n",
                 "True True 0000000000000000 0000000000000000 0000000000000000 "
                 "0000000000000000 1 2\nTrue 1 agentexec\n");
}

/* The file system view */

static void
test_secrets_invisible (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);
  g_autofree char *dir = g_dir_make_tmp ("agentexec-secret-XXXXXX", NULL);
  g_autofree char *secret = g_build_filename (dir, "secret.txt", NULL);
  struct passwd *pw = getpwuid (getuid ());
  const char *source_dir = g_getenv ("AGENTEXEC_SOURCE_DIR");
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *build_dir = g_path_get_dirname (exe);
  g_autofree char *code = NULL;

  g_assert_true (g_file_set_contents (secret, "hunter2", -1, NULL));
  chmod (dir, 0755);
  chmod (secret, 0644);
  g_setenv ("AGENTEXEC_TEST_SECRET", "hunter2-in-the-environment", TRUE);
  code = g_strdup_printf (
      "import os, glob\n"
      "paths = ['/etc/shadow', '/etc/gshadow', '%s', '%s', '%s/.ssh', '%s', '%s', '/root',\n"
      "         '/home', '/var/run/docker.sock', '/run/docker.sock', '/run', '/sys', '/boot',\n"
      "         '/etc/ssh', '/var/lib', '/dev/sda', '/dev/mem', '/dev/kmsg', '/dev/tty']\n"
      "print([p for p in paths if os.path.exists(p)])\n"
      "found = []\n"
      "for f in glob.glob('/proc/[0-9]*/environ') + glob.glob('/proc/[0-9]*/cmdline'):\n"
      "    try:\n"
      "        if b'hunter2' in open(f, 'rb').read(): found.append(f)\n"
      "    except OSError:\n"
      "        pass\n"
      "print(found, 'hunter2' in str(os.environ))\n"
      "print(sorted(os.listdir('/dev')))\n",
      secret, pw != NULL ? pw->pw_dir : "/root", pw != NULL ? pw->pw_dir : "/root",
      /* the checkout (and this test's build tree within it) */
      source_dir != NULL ? source_dir : build_dir, build_dir);
  assert_prints (executor, "python", code,
                 "[]\n[] False\n['fd', 'full', 'null', 'random', 'shm', 'stderr', 'stdin', "
                 "'stdout', 'urandom', 'zero']\n");
  g_unsetenv ("AGENTEXEC_TEST_SECRET");
  unlink (secret);
  rmdir (dir);
}

static void
test_read_only (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);

  /* Nothing outside the work dir, its run directory, /tmp and /dev/shm
   * takes a write (the mounts say EROFS, DAC or Landlock EACCES). */
  assert_prints (executor, "python",
                 "import os\n"
                 "bad = []\n"
                 "for p in ['/usr/x', '/etc/x', '/etc/passwd', '/x', '/var/x', '/dev/x',\n"
                 "          '/proc/x', '/usr/bin/python3', '/etc/hosts', '/lib/x']:\n"
                 "    try:\n"
                 "        open(p, 'a').write('x')\n"
                 "        bad.append(p)\n"
                 "    except OSError as e:\n"
                 "        pass\n"
                 "for d in ['/usr/xd', '/etc/xd', '/xd', '/dev/xd']:\n"
                 "    try:\n"
                 "        os.mkdir(d); bad.append(d)\n"
                 "    except OSError:\n"
                 "        pass\n"
                 "open('here.txt', 'w').write('ok')\n"
                 "open('/tmp/t.txt', 'w').write('ok')\n"
                 "open('/dev/shm/s', 'w').write('ok')\n"
                 "open('/dev/null', 'w').write('ok')\n"
                 "print(bad, len(open('/dev/urandom', 'rb').read(8)))\n",
                 "[] 8\n");
}

/* The network */

static int
open_listener (guint16 *port)
{
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (fd, 16), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &addr, &len), ==, 0);
  *port = ntohs (addr.sin_port);
  return fd;
}

static const char connect_code[] = "import socket\n"
                                   "s = socket.socket()\n"
                                   "s.settimeout(5)\n"
                                   "try:\n"
                                   "    s.connect(('127.0.0.1', %u)); print('connected')\n"
                                   "except OSError as e:\n"
                                   "    print(type(e).__name__)\n";

static void
test_network_none (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);
  guint16 port;
  int listener = open_listener (&port);
  g_autofree char *code = g_strdup_printf (connect_code, port);

  assert_prints (executor, "python", code, "ConnectionRefusedError\n");
  /* No DNS (no resolver is reachable); only its own loopback, which works. */
  assert_prints (executor, "python",
                 "import socket, threading\n"
                 "try:\n"
                 "    socket.getaddrinfo('example.com', 80); print('resolved')\n"
                 "except socket.gaierror:\n"
                 "    print('no dns')\n"
                 "print([n for i, n in socket.if_nameindex()])\n"
                 "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()\n"
                 "c = socket.create_connection(srv.getsockname(), timeout=5)\n"
                 "a, _ = srv.accept(); c.sendall(b'ping'); print(a.recv(4))\n"
                 "try:\n"
                 "    socket.create_connection(('10.0.0.1', 80), timeout=5)\n"
                 "except OSError as e:\n"
                 "    print(type(e).__name__)\n",
                 "no dns\n['lo']\nb'ping'\nOSError\n");
  close (listener);
}

/* With the network property, the host's network namespace is shared
 * (documented): the listener on the host's loopback answers. */
static void
test_network_shared (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, TRUE);
  guint16 port;
  int listener = open_listener (&port);
  g_autofree char *code = g_strdup_printf (connect_code, port);

  assert_prints (executor, "python", code, "connected\n");
  close (listener);
}

/* Processes and system calls */

static void
test_host_processes (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);
  g_autofree char *code =
      g_strdup_printf ("import os, errno\n"
                       "def err(f):\n"
                       "    try:\n"
                       "        f(); return 'ok'\n"
                       "    except OSError as e:\n"
                       "        return errno.errorcode[e.errno]\n"
                       "print(err(lambda: os.kill(%d, 9)), err(lambda: os.kill(%d, 0)))\n"
                       "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n",
                       (int) getpid (), (int) getppid ());

  if (getpid () < 16)
    {
      g_test_skip ("the test's pid could be one inside the sandbox");
      return;
    }
  /* ESRCH: no host process exists in there; the view holds init, the
   * interpreter: pids 1 and 2. */
  assert_prints (executor, "python", code, "ESRCH ESRCH\n[1, 2]\n");
}

static const char syscalls_code[] =
    "import ctypes, errno, os, subprocess\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "def sc(*args):\n"
    "    r = libc.syscall(*[ctypes.c_long(a) for a in args])\n"
    "    return errno.errorcode.get(ctypes.get_errno(), '?') if r == -1 else 'ok'\n"
    "NR = dict(ptrace=101, mount=165, umount2=166, unshare=272, setns=308, bpf=321,\n"
    "          perf_event_open=298, userfaultfd=323, keyctl=250, add_key=248,\n"
    "          kexec_load=246, init_module=175, delete_module=176, reboot=169,\n"
    "          pivot_root=155, chroot=161, io_uring_setup=425, open_tree=428, fsopen=430,\n"
    "          swapon=167, syslog=103, sethostname=170, process_vm_readv=310)\n"
    "out = []\n"
    "out.append(sc(NR['ptrace'], 0, 0, 0, 0))                 # PTRACE_TRACEME\n"
    "out.append(sc(NR['mount'], 0, 0, 0, 0, 0))\n"
    "out.append(sc(NR['unshare'], 0x10000000))                # CLONE_NEWUSER\n"
    "out.append(sc(NR['unshare'], 0x00020000))                # CLONE_NEWNS\n"
    "out.append(sc(NR['setns'], 0, 0))\n"
    "out.append(sc(NR['bpf'], 0, 0, 0))\n"
    "out.append(sc(NR['perf_event_open'], 0, 0, -1, -1, 0))\n"
    "out.append(sc(NR['userfaultfd'], 0))\n"
    "out.append(sc(NR['keyctl'], 0, 0))\n"
    "out.append(sc(NR['add_key'], 0, 0, 0, 0, 0))\n"
    "out.append(sc(NR['kexec_load'], 0, 0, 0, 0))\n"
    "out.append(sc(NR['init_module'], 0, 0, 0))\n"
    "out.append(sc(NR['delete_module'], 0, 0))\n"
    "out.append(sc(NR['reboot'], 0, 0, 0, 0))\n"
    "out.append(sc(NR['pivot_root'], 0, 0))\n"
    "out.append(sc(NR['chroot'], 0))\n"
    "out.append(sc(NR['io_uring_setup'], 1, 0))\n"
    "out.append(sc(NR['open_tree'], -100, 0, 0))\n"
    "out.append(sc(NR['fsopen'], 0, 0))\n"
    "out.append(sc(NR['swapon'], 0, 0))\n"
    "out.append(sc(NR['syslog'], 3, 0, 0))\n"
    "out.append(sc(NR['sethostname'], 0, 0))\n"
    "out.append(sc(NR['process_vm_readv'], 1, 0, 0, 0, 0, 0))\n"
    "out.append(sc(56, 0x10000000 | 17, 0, 0, 0, 0))           # clone(CLONE_NEWUSER)\n"
    "out.append(sc(56, 0x20000000 | 17, 0, 0, 0, 0))           # clone(CLONE_NEWPID)\n"
    "out.append(sc(435, 0, 0))                                 # clone3\n"
    "print(' '.join(out))\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    import time; time.sleep(30); os._exit(0)\n"
    "print(sc(NR['ptrace'], 16, pid, 0, 0))                    # PTRACE_ATTACH a sibling\n"
    "os.kill(pid, 9); os.waitpid(pid, 0)\n"
    "for cmd in (['unshare', '-U', 'true'], ['unshare', '-r', 'true'],\n"
    "            ['mount', '-t', 'tmpfs', 'none', '/tmp']):\n"
    "    p = subprocess.run(cmd, capture_output=True, text=True)\n"
    "    print(p.returncode != 0, 'not permitted' in p.stderr or 'superuser' in p.stderr)\n";

static void
test_syscalls_refused (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);

  assert_prints (executor, "python", syscalls_code,
                 "EPERM EPERM EPERM EPERM EPERM EPERM EPERM EPERM EPERM EPERM EPERM EPERM "
                 "EPERM EPERM EPERM EPERM EPERM EPERM EPERM EPERM EPERM EPERM EPERM EPERM "
                 "EPERM ENOSYS\nEPERM\nTrue True\nTrue True\nTrue True\n");
}

/* Limits and kills */

static void
test_fork_bomb (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);
  g_autofree char *marker = new_marker ();
  const char *argv[] = { marker, NULL };
  g_autoptr (AgentExecExecutionInput) input =
      agentexec_execution_input_new ("import os, time\n"
                                     "n = 0\n"
                                     "while n < 100000:\n"
                                     "    try:\n"
                                     "        os.fork(); n += 1\n"
                                     "    except OSError:\n"
                                     "        time.sleep(0.01)\n",
                                     "python");
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_object_set (executor, "max-processes", 64, NULL);
  agentexec_execution_input_set_argv (input, argv);
  agentexec_execution_input_set_timeout_ms (input, 3000);
  result = run_input (executor, input);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==,
                   AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  g_assert_false (agentexec_test_command_alive (marker));
  /* The host (and the next run) still work. */
  assert_prints (executor, "bash", "echo after", "after\n");
}

static void
test_grandchild_gone (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);
  g_autofree char *marker = new_marker ();
  g_autofree char *code = g_strdup_printf (
      "import subprocess\n"
      "subprocess.Popen(['bash', '-c', 'exec -a %s sleep 1000'], start_new_session=True,\n"
      "                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,\n"
      "                 stderr=subprocess.DEVNULL)\n"
      "print('left')\n",
      marker);

  assert_prints (executor, "python", code, "left\n");
  g_assert_false (agentexec_test_command_alive (marker));
}

static void
test_timeout_and_limits (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);
  g_autofree char *marker = new_marker ();
  const char *argv[] = { marker, NULL };
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (
      "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
      "print('spinning', flush=True)\nwhile True: pass\n",
      "python");
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecExecutionResult) big = NULL;
  g_autoptr (AgentExecExecutionResult) hog = NULL;
  g_autoptr (AgentExecExecutionResult) killed = NULL;

  agentexec_execution_input_set_argv (input, argv);
  agentexec_execution_input_set_timeout_ms (input, 1000);
  result = run_input (executor, input);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==,
                   AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "spinning\n");
  g_assert_false (agentexec_test_command_alive (marker));

  /* RLIMIT_FSIZE, RLIMIT_DATA, and the code's own signal come through. */
  g_object_set (executor, "max-file-bytes", (guint64) 1 << 20, "max-memory-bytes",
                (guint64) 256 << 20, NULL);
  big = run_code (executor, "bash", "exec head -c 4194304 /dev/zero > big\n");
  g_assert_cmpint (agentexec_execution_result_get_outcome (big), ==,
                   AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED);
  g_assert_cmpint (agentexec_execution_result_get_signal (big), ==, SIGXFSZ);
  /* Valgrind keeps RLIMIT_DATA to itself (it never reaches the kernel),
   * so under it the code's allocation succeeds. */
  hog = run_code (executor, "python", "x = bytearray(1 << 30)\n");
  if (!RUNNING_ON_VALGRIND)
    g_assert_cmpint (agentexec_execution_result_get_outcome (hog), ==,
                     AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED);
  killed =
      run_code (executor, "python", "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n");
  g_assert_cmpint (agentexec_execution_result_get_signal (killed), ==, SIGSEGV);
  g_assert_cmpint (agentexec_execution_result_get_exit_code (killed), ==, 128 + SIGSEGV);
}

typedef struct
{
  GString *text;
  guint chunks;
} Streamed;

static void
on_output (AgentExecCodeExecutor *executor,
           AgentExecExecutionInput *input,
           AgentExecStream stream,
           GBytes *chunk,
           gpointer data)
{
  Streamed *s = data;
  gsize len;
  const char *bytes = g_bytes_get_data (chunk, &len);

  if (stream == AGENTEXEC_STREAM_STDOUT)
    g_string_append_len (s->text, bytes, len);
  s->chunks++;
}

static void
test_output_and_streaming (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);
  Streamed s = { g_string_new (NULL), 0 };
  g_autoptr (AgentExecExecutionResult) streamed = NULL;
  g_autoptr (AgentExecExecutionResult) huge = NULL;

  g_signal_connect (executor, "output", G_CALLBACK (on_output), &s);
  streamed =
      run_code (executor, "python",
                "import time\nfor i in range(3):\n    print(i, flush=True); time.sleep(0.2)\n");
  g_assert_cmpstr (s.text->str, ==, "0\n1\n2\n");
  g_assert_cmpuint (s.chunks, >=, 2);
  g_string_free (s.text, TRUE);
  g_signal_handlers_disconnect_by_data (executor, &s);

  g_object_set (executor, "max-output-bytes", (guint64) 1000, NULL);
  huge = run_code (executor, "python", "import sys\nsys.stdout.write('y' * 100000)\n");
  g_assert_true (agentexec_execution_result_get_stdout_truncated (huge));
  g_assert_nonnull (strstr (agentexec_execution_result_get_stdout (huge), "99000 more bytes"));
}

/* Files and figures */

static void
test_files_and_figure (gconstpointer data)
{
  gboolean stateful = GPOINTER_TO_INT (data);
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (stateful, FALSE);
  g_autoptr (GBytes) csv = g_bytes_new_static ("a,b\n1,2\n3,4\n", 12);
  g_autoptr (AgentExecFile) in = agentexec_file_new ("data/in.csv", "text/csv", csv);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (
      "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
      "rows = open('data/in.csv').read().splitlines()[1:]\n"
      "open('out.txt', 'w').write('rows=%d\\n' % len(rows))\n"
      "plt.plot([int(r.split(',')[0]) for r in rows])\n"
      "print('drawn')\n",
      "python");
  g_autoptr (AgentExecExecutionResult) result = NULL;
  AgentExecFile *out, *png;
  gsize len = 0;
  const guint8 *bytes;

  agentexec_execution_input_add_file (input, in);
  agentexec_execution_input_set_execution_id (input, "figures");
  agentexec_execution_input_set_timeout_ms (input, 120000);
  result = run_input (executor, input);
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "drawn\n");
  out = find_file (result, "out.txt");
  g_assert_nonnull (out);
  g_assert_cmpmem (g_bytes_get_data (agentexec_file_get_content (out), NULL), 7, "rows=2\n", 7);
  png = find_file (result, "figure_1.png");
  g_assert_nonnull (png);
  bytes = g_bytes_get_data (agentexec_file_get_content (png), &len);
  g_assert_cmpuint (len, >, 1000);
  g_assert_cmpmem (bytes, 8, "\x89PNG\r\n\x1a\n", 8);
}

/* A caller with umask 077 (a pod's shell, a hardened service): the run's own
 * uid must still read its script and its input files, stateless and in a
 * session. */
static void
test_restrictive_umask (void)
{
  mode_t saved = umask (077);

  for (int stateful = 0; stateful <= 1; stateful++)
    {
      g_autoptr (AgentExecLocalExecutor) executor = new_executor (stateful, FALSE);
      g_autoptr (GBytes) csv = g_bytes_new_static ("a,b\n1,2\n", 8);
      g_autoptr (AgentExecFile) in = agentexec_file_new ("data/in.csv", "text/csv", csv);
      g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (
          "print(open('data/in.csv').read().splitlines()[1])\nopen('out.txt', 'w').write('ok')\n",
          "python");
      g_autoptr (AgentExecExecutionResult) result = NULL;

      agentexec_execution_input_add_file (input, in);
      agentexec_execution_input_set_execution_id (input, "umask");
      agentexec_execution_input_set_timeout_ms (input, 60000);
      result = run_input (executor, input);
      g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "");
      g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "1,2\n");
      g_assert_nonnull (find_file (result, "out.txt"));
    }
  umask (saved);
}

static void
set_umask_077 (gpointer data)
{
  umask (077);
}

/* The same through the program, as a Kubernetes pod runs it: umask 077 and a
 * temporary directory whose parents only root may search. */
static void
test_restrictive_umask_tool (void)
{
  const char *build = g_getenv ("AGENTEXEC_BUILD_DIR");
  g_autofree char *tool =
      g_build_filename (build != NULL ? build : ".", "tools", "agentexec", NULL);
  g_autofree char *base = g_dir_make_tmp ("umask-XXXXXX", NULL);
  g_autofree char *tmp = g_build_filename (base, "pods", "p1", "tmp", NULL);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_true (g_file_test (tool, G_FILE_TEST_IS_EXECUTABLE));
  g_assert_cmpint (g_mkdir_with_parents (tmp, 0700), ==, 0);
  g_assert_cmpint (chmod (base, 0700), ==, 0);
  launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                 G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "TMPDIR", tmp, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, set_umask_077, NULL, NULL);
  process = g_subprocess_launcher_spawn (launcher, &error, tool, "run", "--language", "python", "-",
                                         NULL);
  g_assert_no_error (error);
  g_assert_true (
      g_subprocess_communicate_utf8 (process, "print(6 * 7)\n", NULL, &out, &err, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpstr (out, ==, "42\n");
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_cmpint (rmdir (tmp), ==, 0);
}

static void
test_work_dir (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);
  g_autofree char *dir = g_dir_make_tmp ("agentexec-sandbox-workdir-XXXXXX", NULL);
  g_autofree char *kept = g_build_filename (dir, "kept.txt", NULL);
  g_autofree char *code = g_strdup_printf (
      "import os\nopen('kept.txt', 'w').write('k')\nprint(os.getcwd() == '%s')\n", dir);

  /* As root the code runs as a uid of its own: the directory must let it
   * write (documented). */
  g_assert_cmpint (chmod (dir, geteuid () == 0 ? 0777 : 0700), ==, 0);
  g_object_set (executor, "work-dir", dir, NULL);
  assert_prints (executor, "python", code, "True\n");
  g_assert_true (g_file_test (kept, G_FILE_TEST_EXISTS));
  unlink (kept);
  rmdir (dir);
}

/* An interpreter outside /usr brings its installation (PREFIX/bin/X with
 * PREFIX/lib) into the view, read-only, and nothing next to it. */
static void
test_interpreter_elsewhere (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);
  g_autofree char *top = g_dir_make_tmp ("agentexec-prefix-XXXXXX", NULL);
  g_autofree char *prefix = g_build_filename (top, "python", NULL);
  g_autofree char *bin = g_build_filename (prefix, "bin", NULL);
  g_autofree char *lib = g_build_filename (prefix, "lib", NULL);
  g_autofree char *copy = g_build_filename (bin, "python3", NULL);
  g_autofree char *beside = g_build_filename (top, "beside.txt", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *code = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (PYTHON, &contents, &len, NULL));
  g_assert_cmpint (g_mkdir_with_parents (bin, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (lib, 0755), ==, 0);
  g_assert_true (g_file_set_contents (copy, contents, len, NULL));
  g_assert_true (g_file_set_contents (beside, "secret", -1, NULL));
  g_assert_cmpint (chmod (copy, 0755), ==, 0);
  g_assert_cmpint (chmod (top, 0755), ==, 0);
  g_assert_cmpint (chmod (beside, 0644), ==, 0);
  g_assert_true (agentexec_local_executor_set_interpreter (executor, "python", copy, &error));
  code =
      g_strdup_printf ("import os, sys\n"
                       "print(sys.executable == '%s', os.path.isdir('%s'), os.path.exists('%s'))\n"
                       "try:\n"
                       "    open('%s/x', 'w'); print('writable')\n"
                       "except OSError:\n"
                       "    print('read-only')\n",
                       copy, lib, beside, bin);
  assert_prints (executor, "python", code, "True True False\nread-only\n");
  unlink (copy);
  unlink (beside);
  rmdir (bin);
  rmdir (lib);
  rmdir (prefix);
  rmdir (top);
}

/* A program that cannot start inside the view (its script interpreter is
 * not there) is an error naming it, not a crashed run. */
static void
test_exec_fails (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);
  g_autofree char *dir = g_dir_make_tmp ("agentexec-shebang-XXXXXX", NULL);
  g_autofree char *hidden = g_build_filename (dir, "hidden-python", NULL);
  g_autofree char *script = g_build_filename (dir, "python3", NULL);
  g_autofree char *text = g_strdup_printf ("#!%s\n", hidden);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "python");
  g_autoptr (AgentExecExecutionResult) result = NULL;

  if (RUNNING_ON_VALGRIND)
    {
      /* Valgrind cannot return a failed execve() to the program: it kills
       * the process (status 101), so there is no error to check. */
      g_test_skip ("valgrind dies when execve() fails");
      return;
    }
  g_assert_true (g_file_set_contents (hidden, "#!/bin/sh\necho host\n", -1, NULL));
  g_assert_true (g_file_set_contents (script, text, -1, NULL));
  g_assert_cmpint (chmod (hidden, 0755), ==, 0);
  g_assert_cmpint (chmod (script, 0755), ==, 0);
  g_assert_cmpint (chmod (dir, 0755), ==, 0);
  g_assert_true (agentexec_local_executor_set_interpreter (executor, "python", script, &error));
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, script));
  g_assert_nonnull (strstr (error->message, "in the sandbox"));
  unlink (script);
  unlink (hidden);
  rmdir (dir);
}

/* Stateful sessions */

static void
test_stateful (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (TRUE, FALSE);
  g_autofree char *marker = new_marker ();
  g_autofree char *spawn = g_strdup_printf (
      "import subprocess, time\n"
      "p = subprocess.Popen(['bash', '-c', 'exec -a %s sleep 1000'], start_new_session=True)\n"
      "while not open('/proc/%%d/cmdline' %% p.pid, 'rb').read().startswith(b'%s'):\n"
      "    time.sleep(0.01)  # until bash has exec'd sleep\n"
      "x = 41\nprint(os.getpid())\n",
      marker, marker);
  g_autoptr (AgentExecExecutionInput) first =
      agentexec_execution_input_new ("import os\nprint(os.getpid(), os.getuid() != 0)\n", "python");
  g_autoptr (AgentExecExecutionInput) second = agentexec_execution_input_new (spawn, "python");
  g_autoptr (AgentExecExecutionInput) third =
      agentexec_execution_input_new ("print(x + 1, p.poll())\n", "python");
  g_autoptr (AgentExecExecutionResult) r1 = NULL;
  g_autoptr (AgentExecExecutionResult) r2 = NULL;
  g_autoptr (AgentExecExecutionResult) r3 = NULL;

  agentexec_execution_input_set_execution_id (first, "s");
  agentexec_execution_input_set_execution_id (second, "s");
  agentexec_execution_input_set_execution_id (third, "s");
  r1 = run_input (executor, first);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (r1), ==, "2 True\n");
  r2 = run_input (executor, second);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (r2), ==, "2\n");
  /* The session's processes live as long as it does, then all go. */
  r3 = run_input (executor, third);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (r3), ==, "42 None\n");
  g_assert_true (agentexec_test_command_alive (marker));
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  g_assert_false (agentexec_test_command_alive (marker));
}

/* Isolation between runs */

typedef struct
{
  AgentExecLocalExecutor *executor;
  guint index;
  char *stdout_text;
  char *stderr_text;
} Caller;

static gpointer
concurrent_caller (gpointer data)
{
  Caller *caller = data;
  g_autofree char *code = g_strdup_printf (
      "import os, time\n"
      "open('/tmp/mine-%u', 'w').write('%u')\n"
      "open('/dev/shm/mine-%u', 'w').write('%u')\n"
      "open('work-%u', 'w').write('%u')\n"
      "time.sleep(0.5)\n"
      "run = os.path.basename(os.path.dirname(os.getcwd()))\n"
      "print(sorted(f for f in os.listdir('/tmp') if f != run), sorted(os.listdir('/dev/shm')),\n"
      "      sorted(f for f in os.listdir('.') if f.startswith('work')),\n"
      "      sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n",
      caller->index, caller->index, caller->index, caller->index, caller->index, caller->index);
  g_autoptr (AgentExecExecutionResult) result = run_code (caller->executor, "python", code);

  caller->stdout_text = g_strdup (agentexec_execution_result_get_stdout (result));
  caller->stderr_text = g_strdup (agentexec_execution_result_get_stderr (result));
  return NULL;
}

static void
test_concurrent_isolated (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE, FALSE);
  Caller callers[32];
  GThread *threads[32];

  for (guint i = 0; i < 32; i++)
    {
      callers[i] = (Caller){ executor, i, NULL, NULL };
      threads[i] = g_thread_new ("caller", concurrent_caller, &callers[i]);
    }
  for (guint i = 0; i < 32; i++)
    {
      g_autofree char *expected =
          g_strdup_printf ("['mine-%u'] ['mine-%u'] ['work-%u'] [1, 2]\n", i, i, i);

      g_thread_join (threads[i]);
      g_assert_cmpstr (callers[i].stderr_text, ==, "");
      g_assert_cmpstr (callers[i].stdout_text, ==, expected);
      g_free (callers[i].stdout_text);
      g_free (callers[i].stderr_text);
    }
}

/* When the kernel refuses */

static void
write_proc (const char *path, const char *text)
{
  FILE *file = fopen (path, "w");

  g_assert_nonnull (file);
  g_assert_cmpint (fputs (text, file), >=, 0);
  g_assert_cmpint (fclose (file), ==, 0);
}

static void
test_kernel_refuses (void)
{
  static const char *const knobs[] = { "user/max_user_namespaces", "user/max_pid_namespaces",
                                       "user/max_mnt_namespaces", "user/max_net_namespaces" };
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecLocalExecutor) executor = NULL;
  g_autofree char *uid_map = g_strdup_printf ("%u %u 1\n", geteuid (), geteuid ());
  g_autofree char *gid_map = g_strdup_printf ("%u %u 1\n", getegid (), getegid ());

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }
  /* A user namespace of the test's own where the namespace limits are 0:
   * the kernel then refuses what the sandbox needs, as a sysctl would. */
  g_assert_cmpint (unshare (CLONE_NEWUSER), ==, 0);
  write_proc ("/proc/self/uid_map", uid_map);
  write_proc ("/proc/self/setgroups", "deny");
  write_proc ("/proc/self/gid_map", gid_map);
  for (guint i = 0; i < G_N_ELEMENTS (knobs); i++)
    {
      g_autofree char *path = g_build_filename ("/proc/sys", knobs[i], NULL);

      write_proc (path, "0");
    }
  executor = agentexec_local_executor_new (FALSE, &error);
  g_test_message ("%s", error != NULL ? error->message : "(no error)");
  g_assert_null (executor);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "namespaces"));
  g_assert_nonnull (strstr (error->message, "max_"));
  g_assert_nonnull (strstr (error->message, "sysctl"));
  g_assert_nonnull (strstr (error->message, "sandbox to none"));
  g_clear_error (&error);
  /* Unsandboxed only when asked for, with the opt-in. */
  executor = g_initable_new (AGENTEXEC_TYPE_LOCAL_EXECUTOR, NULL, &error, "sandbox",
                             AGENTEXEC_LOCAL_SANDBOX_NONE, "allow-unsafe", TRUE, NULL);
  g_assert_no_error (error);
  g_assert_nonnull (executor);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/agentexec/backend/local/sandbox/default", test_default);
  g_test_add_func ("/agentexec/backend/local/sandbox/view/secrets-invisible",
                   test_secrets_invisible);
  g_test_add_func ("/agentexec/backend/local/sandbox/view/read-only", test_read_only);
  g_test_add_func ("/agentexec/backend/local/sandbox/network/none", test_network_none);
  g_test_add_func ("/agentexec/backend/local/sandbox/network/shared", test_network_shared);
  g_test_add_func ("/agentexec/backend/local/sandbox/hostile/host-processes", test_host_processes);
  g_test_add_func ("/agentexec/backend/local/sandbox/hostile/syscalls", test_syscalls_refused);
  g_test_add_func ("/agentexec/backend/local/sandbox/hostile/fork-bomb", test_fork_bomb);
  g_test_add_func ("/agentexec/backend/local/sandbox/hostile/grandchild", test_grandchild_gone);
  g_test_add_func ("/agentexec/backend/local/sandbox/hostile/timeout-and-limits",
                   test_timeout_and_limits);
  g_test_add_func ("/agentexec/backend/local/sandbox/restrictive-umask", test_restrictive_umask);
  g_test_add_func ("/agentexec/backend/local/sandbox/restrictive-umask/tool",
                   test_restrictive_umask_tool);
  g_test_add_func ("/agentexec/backend/local/sandbox/output-and-streaming",
                   test_output_and_streaming);
  g_test_add_data_func ("/agentexec/backend/local/sandbox/files-and-figure",
                        GINT_TO_POINTER (FALSE), test_files_and_figure);
  g_test_add_data_func ("/agentexec/backend/local/sandbox/files-and-figure-stateful",
                        GINT_TO_POINTER (TRUE), test_files_and_figure);
  g_test_add_func ("/agentexec/backend/local/sandbox/work-dir", test_work_dir);
  g_test_add_func ("/agentexec/backend/local/sandbox/interpreter-elsewhere",
                   test_interpreter_elsewhere);
  g_test_add_func ("/agentexec/backend/local/sandbox/exec-fails", test_exec_fails);
  g_test_add_func ("/agentexec/backend/local/sandbox/stateful", test_stateful);
  g_test_add_func ("/agentexec/backend/local/sandbox/concurrent-isolated",
                   test_concurrent_isolated);
  g_test_add_func ("/agentexec/backend/local/sandbox/kernel-refuses", test_kernel_refuses);

  return g_test_run ();
}
