"""POSIX shell facts, as far as a manifest shows them: which argv runs a shell script as PID 1, the
script's top-level statements, and whether the shell stays PID 1 (a shell ignores SIGTERM as PID 1 and
does not pass it on, so the app it runs never drains).

Shells exec a script that is one simple command by themselves, and recent ones (bash 5.1+, dash
0.5.11+, busybox ash) sometimes the last command of a longer one, but a trailing newline, a trap or a
redirection defeats that: only `exec` is reliable, so only `exec` counts here.
"""

from __future__ import annotations

import re

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})


def shell_script(argv: list[str]) -> tuple[str, int] | None:
    """(shell, index of the script in argv) when argv runs `<shell> [options] -c SCRIPT` as PID 1."""

    def base(arg: str) -> str:
        return arg.rsplit("/", 1)[-1]

    i = 0
    if argv and base(argv[0]) == "env":  # /usr/bin/env [-i] [VAR=value...] bash -c ...
        i = 1
        while i < len(argv) and (argv[i].startswith("-") or "=" in argv[i]):
            i += 1
    if i < len(argv) and base(argv[i]) == "busybox":
        i += 1
    if i >= len(argv) or base(argv[i]) not in SHELLS:
        return None
    shell = base(argv[i])
    i += 1
    has_c = False
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if arg.startswith("--"):  # bash's --login, --noprofile, ...
            i += 1
            continue
        if re.fullmatch(r"[-+][A-Za-z]+", arg):
            has_c = has_c or (arg[0] == "-" and "c" in arg)
            i += 2 if ("o" in arg[1:] or "O" in arg[1:]) else 1  # `-o pipefail` takes a value
            continue
        break
    if not has_c or i >= len(argv):
        return None
    return shell, i


_TRAP_TERM = r"(?:^|[\s;&|(])trap\s[^\n;]*?(?<![\w-])(?:SIG)?(?:TERM|15)\b"  # compiled on first use: rare
_COMPOUND = frozenset({"if", "while", "until", "for", "case", "select", "{", "(", "function"})
_LEADING = frozenset({"then", "else", "do", "elif", "{", "!"})


def swallowed(command: list[str], args: list[str]) -> tuple[str, int, str] | None:
    """(shell, index of the script in command + args, its last command) when a container's shell stays
    PID 1 and never passes SIGTERM on to the app; None when the container receives SIGTERM (as far as
    the manifest shows: args alone run under the image's entrypoint, which we cannot see)."""
    if not command:
        return None
    argv = command + args
    found = shell_script(argv)
    if found is None:
        return None
    shell, index = found
    last = unexeced_command(argv[index])
    return None if last is None else (shell, index, last)


def unexeced_command(script: str) -> str | None:
    """The script's last command when the shell would stay PID 1 running it; None when it execs (or traps TERM)."""
    statements = split_statements(script)
    if not statements or re.search(_TRAP_TERM, script):
        return None
    last = statements[-1]
    words = last.split()
    if words[0] == "done":
        return "a loop ending in `done`"
    if words[0] in ("fi", "esac", "}"):
        # The end of an if/case: judge the command that ends the last branch.
        if len(statements) < 2:
            return last
        before = _strip_leading(statements[-2])
        return None if before.split()[:1] == ["exec"] else before
    if len(statements) == 1 and _simple(last):
        return None  # the shell execs a script that is one simple command
    command = _strip_leading(last)
    return None if command.split()[:1] == ["exec"] else command


def _strip_leading(statement: str) -> str:
    words = statement.split()
    while len(words) > 1 and words[0] in _LEADING:
        words = words[1:]
    return " ".join(words)


def _simple(statement: str) -> bool:
    words = statement.split()
    return words[0] not in _COMPOUND and not statement.endswith("&") and not _has_pipe(statement)


def _has_pipe(statement: str) -> bool:
    return any(part for part in _unquoted(statement) if "|" in part)


def _unquoted(text: str) -> list[str]:
    return re.split(r"'[^']*'|\"(?:\\.|[^\"\\])*\"", text)


def split_statements(script: str) -> list[str]:
    """The script's top-level statements, split at newlines, `;`, `&&`, `||` and `&` outside quotes,
    `$(...)` and here-documents; comments and line continuations removed. A statement put in the
    background keeps a trailing `&`. An approximation of the shell grammar, enough to find the last command."""
    statements: list[str] = []
    current: list[str] = []
    heredocs: list[tuple[str, bool]] = []
    quote = ""
    depth = 0
    i, n = 0, len(script)

    def flush() -> None:
        text = "".join(current).strip()
        if text:
            statements.append(text)
        current.clear()

    while i < n:
        ch = script[i]
        if quote:
            if ch == "\\" and quote != "'" and i + 1 < n:
                current.append(script[i : i + 2])
                i += 2
                continue
            if ch == quote:
                quote = ""
            current.append(ch)
            i += 1
            continue
        if ch in "'\"`":
            quote = ch
        elif ch == "\\" and i + 1 < n:
            current.append("" if script[i + 1] == "\n" else script[i : i + 2])
            i += 2
            continue
        elif ch == "#" and _last_char(current) in ("", " ", "\t", ";", "(", "|", "&"):
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch == "$" and script.startswith("$(", i):
            depth += 1
            current.append("$(")
            i += 2
            continue
        elif depth and ch in "()":
            depth += 1 if ch == "(" else -1
        elif depth:
            pass
        elif script.startswith("<<", i) and not script.startswith("<<<", i):
            match = re.match(r"<<(-?)[ \t]*(['\"]?)([\w.-]+)\2", script[i:])
            if match:
                heredocs.append((match.group(3), bool(match.group(1))))
                current.append(match.group(0))
                i += len(match.group(0))
                continue
        elif ch == "\n":
            flush()
            i += 1
            for delimiter, tabs in heredocs:  # skip each here-document's body
                while i < n:
                    end = script.find("\n", i)
                    line = script[i : n if end < 0 else end]
                    i = n if end < 0 else end + 1
                    if (line.lstrip("\t") if tabs else line) == delimiter:
                        break
            heredocs.clear()
            continue
        elif ch == ";" or script.startswith("&&", i) or script.startswith("||", i):
            flush()
            i += 2 if script[i : i + 2] in (";;", "&&", "||") else 1
            continue
        elif ch == "&" and _last_char(current) not in ("<", ">") and not script.startswith("&>", i):
            current.append(" &")
            flush()
            i += 1
            continue
        current.append(ch)
        i += 1
    flush()
    return statements


def _last_char(parts: list[str]) -> str:
    for part in reversed(parts):
        if part:
            return part[-1]
    return ""
