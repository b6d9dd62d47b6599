# agentexec Python driver (DESIGN.md, "Interpreter driver protocol").
#
# Passed to the interpreter on its command line: python3 -c SOURCE MODE ...
#   run FILE [ARG...]        run FILE once as __main__, exit with its status
#   serve IN_FD OUT_FD [TOKEN]
#       persistent namespace; requests and replies are frames "<length>\n<json>".
#       Request {"code": str}; reply {"exit_code": int, "figures": [str]}, plus
#       "value": repr() of the last expression's value when the code ends with
#       an expression (not None, no trailing ';'), as Jupyter shows it.
#       With OUT_FD 1 (one channel, e.g. a container's attach stream) the reply
#       is preceded by TOKEN on stdout, and TOKEN + "\n" is written to stderr,
#       so that the reader knows where the code's output ends.
#       Files through the driver (the ready reply lists "files" in
#       "features"; older clients send neither member and get neither):
#       request "files": [{"name", "data": base64}] or [{"name", "size": N}]
#       (then the N raw bytes follow the frame, in the order of the list)
#       are written into the working directory before the code runs (parent directories made, a
#       symlinked directory refused, the file replaced, never followed); a
#       failure replies {"input_error": str} without running the code.
#       Request "report_files": N (bytes) asks for the regular files the run
#       created or changed, as reply "files": [{"name", "data"}], and
#       "deleted": [name]; more than N bytes, or a directory too big to
#       scan, replies "files_overflow": true instead (the client copies the
#       directory itself). Symlinks are never followed; .agentexec/ is left out.
# In serve mode, numpy, pandas and matplotlib (where installed) are imported
# while the client is idle (after ready and after replies), or with
# AGENTEXEC_PRELOAD=ready in the environment (a warm pool's container) all
# before ready: a warm or stateful interpreter then draws its first chart
# without paying for them.
# Needs only the standard library (json in serve mode). Matplotlib figures
# left open or shown are saved as figure_<n>.png in the working directory,
# unless the code saved them itself.
import os
import sys

_ae_mpl_src = '''
import matplotlib.figure
from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas
from matplotlib.backend_bases import FigureManagerBase as FigureManager
def show(*args, **kwargs):
    _ae_save_figures()
def _ae_wrap_savefig(savefig):
    def wrapper(self, *args, **kwargs):
        self._agentexec_saved = True
        return savefig(self, *args, **kwargs)
    return wrapper
matplotlib.figure.Figure.savefig = _ae_wrap_savefig(matplotlib.figure.Figure.savefig)
'''


def _ae_save_figures():
    plt = sys.modules.get('matplotlib.pyplot')
    if plt is None:
        return []
    names = []
    for num in plt.get_fignums():
        name = 'figure_%d.png' % num
        figure = plt.figure(num)
        if getattr(figure, '_agentexec_saved', False):
            continue  # the code saved it itself
        try:
            figure.savefig(name)
            names.append(name)
        except Exception as e:
            sys.stderr.write('agentexec: could not save figure %d: %s\n' % (num, e))
    plt.close('all')
    return names


class _AeMplFinder:
    def find_spec(self, name, path=None, target=None):
        if name != '_agentexec_mpl':
            return None
        import importlib.util
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__dict__['_ae_save_figures'] = _ae_save_figures
        exec(_ae_mpl_src, module.__dict__)


def _ae_print_exception():
    import traceback
    etype, value, tb = sys.exc_info()
    # Drop the driver's own frame: the traceback starts in the user's code
    # (a syntax error has no frame of the user's code at all).
    tb = None if tb is None or isinstance(value, SyntaxError) else tb.tb_next
    traceback.print_exception(etype, value, tb)


def _ae_exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xff if code >= 0 else 1
    sys.stderr.write('%s\n' % (code,))
    return 1


def _ae_flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _ae_compile(source, filename, want_value):
    # With want_value, a final expression statement is compiled on its own
    # ('eval') so that its value can be shown; its line numbers are kept.
    if want_value:
        import ast
        tree = ast.parse(source, filename)
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr) and not source.rstrip().endswith(';'):
            tree.body.pop()
            return (compile(tree, filename, 'exec'),
                    compile(ast.Expression(last.value), filename, 'eval'))
    return compile(source, filename, 'exec'), None


def _ae_exec(source, filename, namespace, want_value=False):
    value = None
    try:
        body, last = _ae_compile(source, filename, want_value)
        exec(body, namespace)
        if last is not None:
            result = eval(last, namespace)
            if result is not None:
                namespace['_'] = result
                value = repr(result)
        status = 0
    except SystemExit as e:
        status = _ae_exit_status(e.code)
    except BaseException:
        _ae_print_exception()
        status = 1
    try:
        figures = _ae_save_figures()
    except BaseException:
        _ae_print_exception()
        figures = []
    _ae_flush()
    return status, figures, value


def _ae_run(path, args):
    with open(path, 'rb') as f:
        source = f.read()
    sys.argv = [path] + args
    namespace = {'__name__': '__main__', '__file__': path, '__builtins__': __builtins__}
    status, _, _ = _ae_exec(source, path, namespace)
    sys.exit(status)


def _ae_read_exact(f, n):
    data = f.read(n)
    if data is None or len(data) != n:
        raise EOFError
    return data


def _ae_put_files(files):
    # Each file is written to a temporary name and renamed over the old one:
    # an existing symlink is replaced, not followed; a symlinked or
    # non-directory parent is refused (O_NOFOLLOW | O_DIRECTORY).
    import base64
    for item in files:
        name = item['name']
        parts = name.split('/')
        if name.startswith('/') or '' in parts or '.' in parts or '..' in parts:
            raise ValueError('invalid file name %r' % name)
        data = item['data']
        if isinstance(data, str):
            data = base64.b64decode(data)
        try:
            _ae_put_file(parts, data)
        except OSError as e:
            raise ValueError('could not write input file %s (%s: a directory on its path '
                             'is a file or a symlink?)' % (name, e.strerror)) from None


def _ae_put_file(parts, data):
    dfd = os.open('.', os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            try:
                os.mkdir(part, 0o755, dir_fd=dfd)
            except FileExistsError:
                pass
            fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dfd)
            os.close(dfd)
            dfd = fd
        tmp = '.%s.agentexec-%d' % (parts[-1][:200], os.getpid())
        try:
            os.unlink(tmp, dir_fd=dfd)
        except FileNotFoundError:
            pass
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644,
                     dir_fd=dfd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.rename(tmp, parts[-1], src_dir_fd=dfd, dst_dir_fd=dfd)
    finally:
        os.close(dfd)


_ae_scan_max = 4096


def _ae_scan(checksums):
    # {name: stat key} of the regular files under the working directory, or
    # None when there are more than _ae_scan_max entries. With checksums, a
    # file modified in the last 100 ms (coarse clocks) also gets its CRC: a
    # same-size rewrite within the same clock tick keeps its stat.
    import time
    found, dirs, count = {}, [''], 0
    racy = time.time_ns() - 100000000
    while dirs:
        prefix = dirs.pop()
        try:
            entries = os.scandir(prefix or '.')
        except OSError:
            continue
        with entries:
            for entry in entries:
                count += 1
                if count > _ae_scan_max:
                    return None
                name = prefix + entry.name
                if name == '.agentexec':
                    continue
                if entry.is_dir(follow_symlinks=False):
                    dirs.append(name + '/')
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
                    if checksums and max(st.st_mtime_ns, st.st_ctime_ns) >= racy:
                        key += (_ae_crc(name),)
                    found[name] = key
    return found


def _ae_read_file(name):
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        with os.fdopen(fd, 'rb') as f:
            return f.read()
    except OSError:
        return None


def _ae_crc(name):
    import zlib
    data = _ae_read_file(name)
    return None if data is None else zlib.crc32(data)


def _ae_changes(before, after, limit):
    # The reply members for the files the run created, changed or deleted.
    import base64
    if before is None or after is None:
        return {'files_overflow': True}
    files, total = [], 0
    for name, key in after.items():
        old = before.get(name)
        if old is not None and old[:4] == key and (len(old) == 4 or old[4] == _ae_crc(name)):
            continue
        data = _ae_read_file(name)
        if data is None:
            continue
        total += len(data)
        if total > limit:
            return {'files_overflow': True}
        files.append({'name': name, 'data': base64.b64encode(data).decode('ascii')})
    return {'files': files, 'deleted': [name for name in before if name not in after]}


def _ae_preload_chart():
    # One chart drawn to memory and closed: pandas' plotting module (where
    # installed), the fonts and the font cache, the Agg renderer, the PNG writer.
    import io, matplotlib.pyplot as plt
    try:
        try:
            import pandas
            axes = pandas.DataFrame({'y': [0, 1]}).plot(title='t')
        except ImportError:
            axes = plt.figure().add_subplot(title='t')
            axes.plot([0, 1])
        axes.figure.savefig(io.BytesIO(), format='png')
    finally:
        plt.close('all')


_ae_preload_steps = ['ast', 'base64', 'zlib', 'numpy', 'pandas', 'matplotlib.pyplot', _ae_preload_chart]


def _ae_preload(fd):
    # The remaining steps; with fd, each only after 50 ms without a request:
    # a client that sends its next request right after a reply is never held
    # up, one that comes back after a model's reply finds the libraries
    # imported. The client sends one request per reply, so nothing waits in
    # the reader's buffer when the descriptor is idle. A failing step (a
    # library not installed) is skipped; output is dropped.
    import contextlib, importlib, io, select, warnings
    while _ae_preload_steps:
        if fd is not None and select.select([fd], [], [], 0.05)[0]:
            return
        step = _ae_preload_steps.pop(0)
        try:
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter('ignore')
                step() if callable(step) else importlib.import_module(step)
        except Exception:
            pass


def _ae_serve(in_fd, out_fd, token):
    import json
    if in_fd == 0:
        in_fd = os.dup(0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    if out_fd == 1:
        out_fd = os.dup(1)
    else:
        token = b''
    requests = os.fdopen(in_fd, 'rb')
    namespace = {'__name__': '__main__', '__builtins__': __builtins__}

    def reply(obj):
        body = json.dumps(obj).encode()
        frame = token + b'%d\n' % len(body) + body
        if token:
            os.write(2, token + b'\n')
        while frame:
            frame = frame[os.write(out_fd, frame):]

    if os.environ.pop('AGENTEXEC_PRELOAD', '') == 'ready':
        _ae_preload(None)
    reply({'ready': True, 'language': 'python', 'pid': os.getpid(),
           'version': sys.version.split()[0], 'features': ['files']})
    _ae_preload(in_fd)
    while True:
        line = requests.readline()
        if not line:
            return
        request = json.loads(_ae_read_exact(requests, int(line)))
        for item in request.get('files') or []:
            if 'size' in item:
                item['data'] = _ae_read_exact(requests, item['size']) if item['size'] else b''
        try:
            _ae_put_files(request.get('files') or [])
        except Exception as e:
            reply({'input_error': '%s' % (e,)})
            continue
        limit = request.get('report_files')
        before = _ae_scan(True) if limit is not None else None
        status, figures, value = _ae_exec(request.get('code', ''), '<code>', namespace, True)
        answer = {'exit_code': status, 'figures': figures}
        if value is not None:
            answer['value'] = value
        if limit is not None:
            answer.update(_ae_changes(before, _ae_scan(False), limit))
        reply(answer)
        _ae_preload(in_fd)


def _ae_main():
    sys.meta_path.append(_AeMplFinder())
    os.environ.setdefault('MPLBACKEND', 'module://_agentexec_mpl')
    mode = sys.argv[1] if len(sys.argv) > 1 else ''
    if mode == 'run' and len(sys.argv) > 2:
        _ae_run(sys.argv[2], sys.argv[3:])
    elif mode == 'serve' and len(sys.argv) > 3:
        in_fd, out_fd = int(sys.argv[2]), int(sys.argv[3])
        token = sys.argv[4].encode() if len(sys.argv) > 4 else b''
        del sys.argv[1:]
        try:
            _ae_serve(in_fd, out_fd, token)
        except (EOFError, KeyboardInterrupt, BrokenPipeError):
            pass
    else:
        sys.stderr.write('usage: python3 -c DRIVER run FILE [ARG...] | serve IN_FD OUT_FD [TOKEN]\n')
        sys.exit(2)


_ae_main()
