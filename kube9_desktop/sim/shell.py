"""The simulated shell kube9-sim runs for ``pods/exec`` and ``pods/attach``: never a process on the host.

A busybox-like ``sh`` over a fake file system: a prompt with line editing (tty), ``echo``, ``ls``, ``cat``,
``env``, ``hostname``, ``sleep`` (Ctrl-C interrupts), ``exit N``, ``sh -c '...'`` with ``;``/``&&``/``||``,
``command -v``, ``stty size`` (shows the resize channel at work), ``flood [N]`` (floods output), ``colors``
(SGR colours), ``top`` (alternate screen, redraws on resize, ``q`` quits), ``sequences`` (escape sequences a
terminal must ignore: OSC 52 clipboard write, a title with control characters, terminal queries); unknown
commands → 127 ``command not found``. Images under ``k8s.gcr.io/`` have no shell at all (distroless), like the
real ones, so exec of ``sh`` there fails like containerd's "executable file not found".
"""

from __future__ import annotations

import queue
import re
import shlex
import threading
import time
from collections.abc import Callable
from typing import Any

STDOUT, STDERR = 1, 2
_RESIZE = object()
_EOF = object()
#: What a shell-less image still has (its own binary is added per image).
_NO_SHELL_IMAGE = "k8s.gcr.io/"
SHELLS = ("sh", "ash")


class ExitShell(Exception):
    """``exit N`` / ``exec``: ends the shell with this status."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class ExecFailed(Exception):
    """The container runtime could not start the command (no such executable)."""


class Interrupted(Exception):
    """Ctrl-C reached a foreground command."""


def no_shell(image: str) -> bool:
    """Whether the image is shell-less (distroless)."""
    return image.startswith(_NO_SHELL_IMAGE)


def exec_error(argv0: str) -> str:
    """containerd's message for a command that is not in the image."""
    return (
        "error executing command in container: failed to exec in container: failed to start exec: OCI runtime "
        f'exec failed: exec failed: unable to start container process: exec: "{argv0}": executable file not '
        "found in $PATH: unknown"
    )


class SimShell:
    """One exec session: feed it stdin and resizes from the connection thread, ``run`` it in another.

    Args:
        pod: The pod object (dict).
        container: Container name.
        argv: The command asked for.
        tty: Whether a terminal was asked for (echo, line editing, CR/LF, stderr merged into stdout).
        out: ``out(channel, bytes)`` writes to stdout (1) or stderr (2).
        stopping: Set when the peer leaves or the sim stops.
    """

    def __init__(
        self,
        pod: dict[str, Any],
        container: str,
        argv: list[str],
        tty: bool,
        out: Callable[[int, bytes], Any],
        stopping: threading.Event,
    ) -> None:
        self.pod, self.container, self.argv, self.tty, self._out, self.stopping = (
            pod,
            container,
            argv,
            tty,
            out,
            stopping,
        )
        md = pod.get("metadata", {})
        self.name = md.get("name", "pod")
        self.namespace = md.get("namespace", "default")
        spec: dict[str, Any] = next(
            (c for c in pod.get("spec", {}).get("containers", []) if c.get("name") == container), {}
        )
        self.image = spec.get("image", "busybox")
        self.cols, self.rows = 80, 24
        self.cwd = "/"
        self.status = 0
        self.inq: queue.Queue[Any] = queue.Queue()
        self.pending = b""
        self.env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOSTNAME": self.name,
            "HOME": "/root",
            "KUBERNETES_SERVICE_HOST": "10.96.0.1",
            "KUBERNETES_SERVICE_PORT": "443",
        }
        for e in spec.get("env", []) or []:
            if "value" in e:
                self.env[e["name"]] = str(e["value"])
        if tty:
            self.env["TERM"] = "xterm"
        self.files = {
            "/etc/hostname": f"{self.name}\n",
            "/etc/hosts": f"127.0.0.1\tlocalhost\n{pod.get('status', {}).get('podIP', '10.244.0.2')}\t{self.name}\n",
            "/etc/os-release": 'NAME="kube9-sim Linux"\nID=kube9sim\nVERSION_ID=1.0\n'
            'PRETTY_NAME="kube9-sim (simulated)"\n',
            "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n",
            "/etc/resolv.conf": f"search {self.namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
            "nameserver 10.96.0.10\noptions ndots:5\n",
            "/app/README": f"Simulated container {container} of pod {self.name} ({self.image}).\n",
            "/app/config.yaml": "listen: 0.0.0.0:8080\nlogLevel: info\n",
            "/proc/version": "Linux version 5.10.0-kube9sim (simulated)\n",
        }
        self.dirs = {
            "/": ["app", "bin", "dev", "etc", "home", "proc", "root", "tmp", "usr", "var"],
            "/app": ["README", "config.yaml"],
            "/bin": sorted([*SHELLS, *self.COMMANDS]),
            "/etc": ["hostname", "hosts", "os-release", "passwd", "resolv.conf"],
            "/proc": ["version"],
        }
        for d in ("/dev", "/home", "/root", "/tmp", "/usr", "/var"):
            self.dirs.setdefault(d, [])

    # -- input from the connection thread -------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """stdin bytes."""
        if data:
            self.inq.put(data)

    def resize(self, cols: int, rows: int) -> None:
        """The terminal's new size (resize channel)."""
        if cols > 0 and rows > 0:
            self.cols, self.rows = cols, rows
            self.inq.put(_RESIZE)

    def close_stdin(self) -> None:
        """stdin reached EOF (v5 close signal or the peer left)."""
        self.inq.put(_EOF)

    # -- output ---------------------------------------------------------------------------------------------
    def w(self, text: str, channel: int = STDOUT) -> None:
        if self.tty:
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
            channel = STDOUT
        self._out(channel, text.encode())

    def err(self, text: str) -> None:
        self.w(text, STDERR)

    # -- input primitives -----------------------------------------------------------------------------------
    def _next(self, timeout: float | None = None) -> Any:
        """The next byte (as a 1-byte bytes), ``_RESIZE``, ``_EOF`` or None on timeout/stop."""
        if self.pending:
            b, self.pending = self.pending[:1], self.pending[1:]
            return b
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.stopping.is_set():
            wait = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if wait <= 0:
                return None
            try:
                item = self.inq.get(timeout=wait)
            except queue.Empty:
                continue
            if isinstance(item, bytes):
                self.pending = item[1:]
                return item[:1]
            return item
        return _EOF

    def _check_interrupt(self, timeout: float) -> Any:
        """Waits up to ``timeout`` for input while a command runs; raises Interrupted on Ctrl-C (tty)."""
        item = self._next(timeout)
        if item == b"\x03" and self.tty:
            self.w("^C\n")
            raise Interrupted
        if item is _EOF and self.stopping.is_set():
            raise ExitShell(130)
        return item

    def read_line(self) -> str | None:
        """One line of input (tty: echoed, with backspace, Ctrl-C, Ctrl-D, escape sequences dropped)."""
        buf = ""
        while True:
            item = self._next()
            if item is _EOF:
                return buf or None
            if item is _RESIZE or item is None:
                continue
            ch = item.decode("latin-1")
            if not self.tty:
                if ch == "\n":
                    return buf
                buf += ch
                continue
            if ch in "\r\n":
                self.w("\n")
                return buf
            if ch == "\x03":
                self.w("^C\n")
                return ""
            if ch == "\x04":
                if not buf:
                    return None
                continue
            if ch in "\x7f\x08":
                if buf:
                    buf = buf[:-1]
                    self.w("\b \b")
                continue
            if ch == "\x1b":
                self._skip_escape()
                continue
            if ch == "\t":
                self.w("\a")
                continue
            if ch >= " ":
                buf += ch
                self.w(ch)

    def _skip_escape(self) -> None:
        """Drops the rest of an escape sequence (arrow keys, function keys): no history in this shell."""
        first = self._next(0.05)
        if first not in (b"[", b"O"):
            return
        while True:
            b = self._next(0.05)
            if not isinstance(b, bytes) or 0x40 <= b[0] <= 0x7E:
                return

    # -- running ----------------------------------------------------------------------------------------------
    def run(self) -> tuple[int, str | None]:
        """Runs ``argv``; returns (exit status, runtime error message or None)."""
        argv = self.argv or ["sh"]
        prog = argv[0].rsplit("/", 1)[-1]
        if no_shell(self.image) and prog != self._image_binary():
            return 126, exec_error(argv[0])
        if prog not in SHELLS and prog not in self.COMMANDS:
            return 126, exec_error(argv[0])
        try:
            if prog in SHELLS:
                if len(argv) >= 3 and argv[1] == "-c":
                    return self.run_script(argv[2]), None
                return self.interactive(), None
            return self.call(argv), None
        except ExitShell as e:
            return e.code, None

    def _image_binary(self) -> str:
        return self.image.rsplit("/", 1)[-1].split(":")[0]

    def interactive(self) -> int:
        """The read-eval loop (prompt only on a tty, like sh)."""
        while not self.stopping.is_set():
            if self.tty:
                self.w(f"{self.cwd} # ")
            line = self.read_line()
            if line is None:
                if self.tty:
                    self.w("exit\n")
                return self.status
            if line.strip():
                try:
                    self.status = self.run_script(line)
                except ExitShell as e:
                    return e.code
        return self.status

    def run_script(self, script: str) -> int:
        """A command line with ``;``, ``&&``, ``||``; redirections to /dev/null and 2>&1 are accepted."""
        script = re.sub(r"\d?>&\d|\d?>\s*/dev/null", " ", script)
        script = self._expand(script)
        lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError as e:
            self.err(f"sh: syntax error: {e}\n")
            return 2
        status, skip = 0, False
        cmd: list[str] = []
        for tok in [*tokens, ";"]:
            if tok in (";", "&&", "||", "|", "&"):
                if tok == "|":
                    self.err("sh: pipes are not simulated\n")
                    return 2
                if cmd and not skip:
                    status = self._call_one(cmd)
                cmd = []
                skip = (tok == "&&" and status != 0) or (tok == "||" and status == 0)
            else:
                cmd.append(tok)
        return status

    def _expand(self, script: str) -> str:
        """``$VAR``, ``${VAR}``, ``$?`` outside single quotes."""
        parts = re.split(r"('[^']*')", script)
        env = dict(self.env, **{"?": str(self.status)})
        for i in range(0, len(parts), 2):
            parts[i] = re.sub(r"\$(\?|\{\w+\}|\w+)", lambda m: env.get(m.group(1).strip("{}"), ""), parts[i])
        return "".join(parts)

    def _call_one(self, argv: list[str]) -> int:
        try:
            self.status = self.call(argv)
        except Interrupted:
            self.status = 130
        except ExecFailed:
            self.status = 127
        return self.status

    def call(self, argv: list[str]) -> int:
        """Runs one simple command."""
        name = argv[0].rsplit("/", 1)[-1] if argv[0].startswith("/") else argv[0]
        if name == "exec":
            if len(argv) == 1:
                return 0
            code = self._call_one(argv[1:])
            raise ExitShell(code)
        if name in SHELLS:
            if len(argv) >= 3 and argv[1] == "-c":
                return self.run_script(argv[2])
            return self.interactive()
        fn = self.COMMANDS.get(name)
        if fn is None:
            self.err(f"sh: {argv[0]}: command not found\n")
            return 127
        return int(fn(self, argv[1:]))

    # -- commands ---------------------------------------------------------------------------------------------
    def c_echo(self, args: list[str]) -> int:
        newline = True
        if args and args[0] == "-n":
            newline, args = False, args[1:]
        self.w(" ".join(args) + ("\n" if newline else ""))
        return 0

    def c_printf(self, args: list[str]) -> int:
        if not args:
            return 1
        fmt = args[0].replace("\\n", "\n").replace("\\t", "\t").replace("\\033", "\x1b").replace("\\e", "\x1b")
        try:
            self.w(fmt.replace("%s", "{}").format(*args[1:]) if "%s" in fmt else fmt)
        except IndexError:
            self.w(fmt)
        return 0

    def _path(self, p: str) -> str:
        p = p if p.startswith("/") else (self.cwd.rstrip("/") + "/" + p)
        out: list[str] = []
        for part in p.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if out:
                    out.pop()
            else:
                out.append(part)
        return "/" + "/".join(out)

    def c_ls(self, args: list[str]) -> int:
        paths = [a for a in args if not a.startswith("-")] or [self.cwd]
        status = 0
        for p in paths:
            full = self._path(p)
            if full in self.dirs:
                names = self.dirs[full]
                if names:
                    self.w("  ".join(names) + "\n")
            elif full in self.files:
                self.w(p + "\n")
            else:
                self.err(f"ls: {p}: No such file or directory\n")
                status = 1
        return status

    def c_cat(self, args: list[str]) -> int:
        if not args:
            while (line := self.read_line()) is not None:
                self.w(line + "\n")
            return 0
        status = 0
        for p in args:
            full = self._path(p)
            if full in self.files:
                self.w(self.files[full])
            elif full in self.dirs:
                self.err("cat: read error: Is a directory\n")
                status = 1
            else:
                self.err(f"cat: can't open '{p}': No such file or directory\n")
                status = 1
        return status

    def c_cd(self, args: list[str]) -> int:
        full = self._path(args[0] if args else "/root")
        if full not in self.dirs:
            self.err(f"sh: cd: can't cd to {args[0] if args else full}: No such file or directory\n")
            return 2
        self.cwd = full
        return 0

    def c_pwd(self, args: list[str]) -> int:
        self.w(self.cwd + "\n")
        return 0

    def c_env(self, args: list[str]) -> int:
        self.w("".join(f"{k}={v}\n" for k, v in self.env.items()))
        return 0

    def c_hostname(self, args: list[str]) -> int:
        self.w(self.name + "\n")
        return 0

    def c_uname(self, args: list[str]) -> int:
        self.w(f"Linux {self.name} 5.10.0-kube9sim #1 SMP x86_64 GNU/Linux\n" if args else "Linux\n")
        return 0

    def c_id(self, args: list[str]) -> int:
        self.w("uid=0(root) gid=0(root) groups=0(root)\n")
        return 0

    def c_whoami(self, args: list[str]) -> int:
        self.w("root\n")
        return 0

    def c_date(self, args: list[str]) -> int:
        self.w(time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime()) + "\n")
        return 0

    def c_true(self, args: list[str]) -> int:
        return 0

    def c_false(self, args: list[str]) -> int:
        return 1

    def c_exit(self, args: list[str]) -> int:
        try:
            code = int(args[0]) & 0xFF if args else self.status
        except ValueError:
            self.err(f"sh: exit: Illegal number: {args[0]}\n")
            code = 2
        raise ExitShell(code)

    def c_sleep(self, args: list[str]) -> int:
        try:
            secs = float(args[0]) if args else 0.0
        except ValueError:
            self.err(f"sleep: invalid number '{args[0]}'\n")
            return 1
        end = time.monotonic() + secs
        while (left := end - time.monotonic()) > 0:
            self._check_interrupt(min(left, 0.2))
        return 0

    def c_command(self, args: list[str]) -> int:
        if len(args) >= 2 and args[0] == "-v":
            name = args[1]
            if name in self.COMMANDS or name in SHELLS:
                self.w(f"/bin/{name}\n")
                return 0
            return 1
        return self.call(args) if args else 0

    def c_which(self, args: list[str]) -> int:
        return self.c_command(["-v", *args[:1]])

    def c_stty(self, args: list[str]) -> int:
        if args[:1] == ["size"]:
            if not self.tty:
                self.err("stty: standard input: Not a tty\n")
                return 1
            self.w(f"{self.rows} {self.cols}\n")
        return 0

    def c_clear(self, args: list[str]) -> int:
        self.w("\x1b[H\x1b[2J")
        return 0

    def c_flood(self, args: list[str]) -> int:
        """Floods output: N lines (default 10000), Ctrl-C stops it."""
        n = int(args[0]) if args and args[0].isdigit() else 10000
        batch: list[str] = []
        for i in range(1, n + 1):
            batch.append(f"{i:>7} the quick brown fox jumps over the lazy dog {self.name}\n")
            if len(batch) == 200:
                self.w("".join(batch))
                batch = []
                if not self.inq.empty() or self.pending:
                    self._check_interrupt(0.001)
        if batch:
            self.w("".join(batch))
        return 0

    def c_colors(self, args: list[str]) -> int:
        """The 16 ANSI colours (foreground and background), bold, underline, and a 256-colour ramp."""
        out = []
        for base, label in ((30, "fg"), (40, "bg")):
            out.append(f"{label}: " + " ".join(f"\x1b[{base + i}m {i} \x1b[0m" for i in range(8)))
            out.append(f"{label}+: " + " ".join(f"\x1b[{base + 60 + i}m {i} \x1b[0m" for i in range(8)))
        out.append("\x1b[1mbold\x1b[0m \x1b[4munderline\x1b[0m \x1b[7mreverse\x1b[0m")
        out.append("".join(f"\x1b[48;5;{16 + i * 6}m \x1b[0m" for i in range(36)))
        self.w("\n".join(out) + "\n")
        return 0

    def c_sequences(self, args: list[str]) -> int:
        """Sequences a terminal must ignore: OSC 52 clipboard write, a title with control chars, queries."""
        self.w(
            "\x1b]52;c;aGFja2VkIGNsaXBib2FyZA==\x07"  # clipboard := "hacked clipboard"
            "\x1b]0;evil\x01title\x1b[31m\x07"  # a title with control characters
            "\x1b[c\x1b[6n\x1b]10;?\x07"  # device attributes, cursor position, colour queries
            "sequences done\n"
        )
        return 0

    def c_top(self, args: list[str]) -> int:
        """A top-like full-screen view in the alternate screen; redraws each second and on resize; q quits."""
        self.w("\x1b[?1049h\x1b[?25l")
        start = time.monotonic()
        try:
            while True:
                self._draw_top(time.monotonic() - start)
                deadline = time.monotonic() + 1.0
                while (left := deadline - time.monotonic()) > 0:
                    item = self._check_interrupt(left)
                    if item in (b"q", b"Q") or item is _EOF:
                        return 0
                    if item is _RESIZE:
                        break
        except Interrupted:
            return 0
        finally:
            self.w("\x1b[?25h\x1b[?1049l")

    def _draw_top(self, up: float) -> None:
        procs = [
            (1, "root", "S", 0.3, 1.2, self._image_binary() or "app"),
            (7, "root", "S", 0.0, 0.1, "sh"),
            (42, "app", "R", 12.5, 8.4, "worker --threads=4"),
            (43, "app", "S", 3.1, 4.0, "worker --threads=4"),
            (58, "root", "R", 0.1, 0.0, "top"),
        ]
        lines = [
            f"\x1b[1mtop - {time.strftime('%H:%M:%S', time.gmtime())} up {int(up)}s,  load average: 0.42, 0.30, "
            f"0.21\x1b[0m  ({self.cols}x{self.rows})",
            f"Tasks: {len(procs)} total,   2 running   \x1b[32mMem: 512Mi\x1b[0m   \x1b[33mCPU: 16%\x1b[0m",
            "",
            "\x1b[7m" + f"{'PID':>5} {'USER':<8} S {'%CPU':>5} {'%MEM':>5} COMMAND".ljust(self.cols) + "\x1b[0m",
        ]
        for pid, user, st, cpu, mem, cmd in procs:
            colour = "\x1b[1;32m" if st == "R" else ""
            lines.append(f"{colour}{pid:>5} {user:<8} {st} {cpu:>5.1f} {mem:>5.1f} {cmd}\x1b[0m")
        lines = [ln for ln in lines][: max(self.rows - 1, 1)]
        self.w("\x1b[H\x1b[2J" + "\n".join(lines) + f"\x1b[{self.rows};1H\x1b[2mq quits\x1b[0m")

    def c_help(self, args: list[str]) -> int:
        self.w("simulated commands: " + " ".join(sorted(self.COMMANDS)) + "\n")
        return 0

    COMMANDS: dict[str, Callable[[SimShell, list[str]], int]] = {}


SimShell.COMMANDS = {name[2:]: fn for name, fn in vars(SimShell).items() if name.startswith("c_") and callable(fn)}
