"""The render options, declared once.

The fast path (entry.py) parses argv with this table and the Typer app (cli.py) declares its options
from it, so the two cannot disagree. Typer-free: entry.py must not pay for importing Typer.
"""

from __future__ import annotations

VALUE, MULTI, FLAG = "value", "multi", "flag"


class Option:
    """One render option. A plain class: a dataclass's generated methods are compiled at import, ~1 ms
    of every render's start-up, and nothing compares or prints options."""

    __slots__ = ("flags", "help", "kind", "param")

    def __init__(self, param: str, flags: tuple[str, ...], kind: str, help: str) -> None:
        self.param = param  # the keyword of render.render (and of the Typer command's parameter)
        self.flags = flags
        self.kind = kind  # VALUE (one), MULTI (repeatable) or FLAG
        self.help = help


RENDER_OPTIONS = (
    Option("kube_version", ("--kube-version",), VALUE, "Target Kubernetes version (default 1.30)."),
    Option("assignments", ("--set",), MULTI, "Override a setting: key=value (repeatable). See `zdrender rules`."),
    Option("config", ("--config",), VALUE, "Settings file (YAML); also $ZDRENDER_CONFIG."),
    Option("report", ("--report",), VALUE, "Write all findings (and errors) to FILE: .json, .sarif or text; also $ZDRENDER_REPORT."),
    Option("quiet", ("--quiet", "-q"), FLAG, "No summary on stderr."),
    Option("verbose", ("--verbose", "-v"), FLAG, "List every change on stderr."),
    Option("allow_empty", ("--allow-empty",), FLAG, "Accept a stream with no manifests (refused by default: see README)."),
)
BY_FLAG = {flag: option for option in RENDER_OPTIONS for flag in option.flags}
BY_PARAM = {option.param: option for option in RENDER_OPTIONS}
