"""Reading a configuration file: any path → parsed TOML, or one clear ``ConfigError``.

Every configuration file (sources, taxonomy, alerts) is read here, so each says the same thing
about a directory, a binary file, bytes that are not UTF-8 or TOML that does not parse: the
file's path and where in it, never a traceback.
"""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

_TOML_POSITION_RE = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The parsed file ``path`` (a ``what`` file, e.g. "taxonomy"); ``ConfigError`` if unusable."""
    data = _read_bytes(path, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text: invalid byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None
    # UTF-16 text and many binary formats are valid UTF-8 up to their NULs, where TOML would
    # only say "invalid statement".
    if (nul := data.find(b"\0")) >= 0:
        raise ConfigError(f"{path}: not a text file: NUL byte at offset {nul}")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_problem(path, exc)) from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"{path}: is a directory, not the {what} file")
        # A pipe or a device would block or stream forever instead of holding a file.
        if not stat.S_ISREG(mode):
            raise ConfigError(f"{path}: is not a regular file")
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a path with a NUL in it
        raise ConfigError(f"{path}: cannot read {what}: {exc}") from None


def _toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    if line is None and (found := _TOML_POSITION_RE.search(message)):
        line, column = int(found.group(1)), int(found.group(2))
        message = message[: found.start()].rstrip()
    if line is None:
        return f"{path}: not valid TOML: {message}"
    return f"{path}: not valid TOML at line {line}, column {column}: {message}"
