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


_ae_preload_steps = ['numpy', 'pandas', 'matplotlib.pyplot', _ae_preload_chart]


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
           'version': sys.version.split()[0]})
    _ae_preload(in_fd)
    while True:
        line = requests.readline()
        if not line:
            return
        request = json.loads(_ae_read_exact(requests, int(line)))
        status, figures, value = _ae_exec(request.get('code', ''), '<code>', namespace, True)
        answer = {'exit_code': status, 'figures': figures}
        if value is not None:
            answer['value'] = value
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
