"""YAML read with line numbers, for error messages a person can follow to the line.

``load(path, shown)`` composes the file (``yaml.compose``, safe tags only) and
turns the node tree into ``Y`` values: each holds the plain value (a dict of
``Y``, a list of ``Y`` or a scalar) and the line it starts on. Duplicate keys,
which PyYAML would silently merge, are reported. Every problem is collected in
``Problems`` as ``path:line: reason``; what the values must be is the
importer's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor


@dataclass
class Y:
    value: Any  # dict[str, Y] | list[Y] | str | int | bool | float | date | None
    line: int

    def plain(self) -> Any:
        """The value with every ``Y`` unwrapped."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


@dataclass
class Problems:
    lines: list[str] = field(default_factory=list)

    def add(self, shown: str, line: int, reason: str) -> None:
        self.lines.append(f"{shown}:{line}: {reason}")

    def __bool__(self) -> bool:
        return bool(self.lines)


class _Converter:
    def __init__(self, shown: str, problems: Problems) -> None:
        self.shown = shown
        self.problems = problems
        self.constructor = SafeConstructor()

    def scalar(self, node: yaml.Node) -> Any:
        value = self.constructor.construct_object(node, deep=True)
        self.constructor.constructed_objects.clear()
        return value

    def convert(self, node: yaml.Node) -> Y:
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Y] = {}
            for key_node, value_node in node.value:
                key_line = key_node.start_mark.line + 1
                key = self.scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
                if not isinstance(key, str):
                    self.problems.add(self.shown, key_line, f"a key must be a word, not {key!r}")
                    continue
                if key in out:
                    self.problems.add(self.shown, key_line, f"'{key}' is given twice")
                    continue
                value = self.convert(value_node)
                # A value is pointed at on its key's line ("text:"), not where it begins.
                out[key] = Y(value.value, key_line)
            return Y(out, line)
        if isinstance(node, yaml.SequenceNode):
            return Y([self.convert(n) for n in node.value], line)
        return Y(self.scalar(node), line)


def load(path: Path, shown: str, problems: Problems) -> Y | None:
    """The file's document as ``Y``, or None (with the reason in ``problems``)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        problems.add(shown, line, "the file is not UTF-8 text")
        return None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 1
        problems.add(shown, line, f"YAML cannot be read: {e.problem or e.context}")
        return None
    except yaml.YAMLError as e:
        problems.add(shown, 1, f"YAML cannot be read: {e}")
        return None
    if node is None:
        problems.add(shown, 1, "the file is empty")
        return None
    try:
        return _Converter(shown, problems).convert(node)
    except yaml.constructor.ConstructorError as e:
        mark = e.problem_mark
        problems.add(shown, mark.line + 1 if mark else 1, f"YAML value cannot be read: {e.problem}")
        return None
