"""JSON schemas for skill API methods, from what a skill's `public_api` reply tells: its
docstring (`help`), or a `parameters` JSON schema when the skill adds one.

Docstrings in Google style (`Args:` then `name (type): text`, `(type, optional)` for optional
ones), Sphinx style (`:param type name: text`) and `@param name: text` are understood."""

import re
from typing import Any

_TYPES = {
    "int": "integer",
    "integer": "integer",
    "float": "number",
    "number": "number",
    "str": "string",
    "string": "string",
    "bool": "boolean",
    "boolean": "boolean",
    "list": "array",
    "tuple": "array",
    "dict": "object",
}
_SECTION = re.compile(r"^\s*(args|arguments|parameters|params)\s*:\s*$", re.I)
_OTHER_SECTION = re.compile(r"^\s*(returns?|raises|yields|examples?|notes?)\s*:", re.I)
_GOOGLE = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_SPHINX = re.compile(r"^\s*[:@]param\s+(?:(\w[\w\[\], |]*?)\s+)?(\w+)\s*:\s*(.*)$")
_SPHINX_TYPE = re.compile(r"^\s*:type\s+(\w+)\s*:\s*(.*)$")
NO_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}


def _json_type(annotation: str) -> tuple[str | None, bool]:
    """('integer', optional?) from 'int', 'int, optional', 'Optional[str]', 'str | None'."""
    text = annotation.strip().lower()
    optional = "optional" in text or "none" in text
    for token in re.split(r"[\s,\[\]|]+", text):
        if token in _TYPES:
            return _TYPES[token], optional
    return None, optional


def _property(annotation: str, description: str) -> tuple[dict[str, Any], bool]:
    json_type, optional = _json_type(annotation)
    prop: dict[str, Any] = {"type": json_type} if json_type else {}
    if description:
        prop["description"] = description.strip()
    optional = optional or description.strip().lower().startswith("optional")
    return prop, optional


def summary(doc: str) -> str:
    """The docstring's first paragraph, on one line."""
    first = re.split(r"\n\s*\n", doc.strip(), maxsplit=1)[0] if doc else ""
    return " ".join(first.split())


def schema_from_docstring(doc: str) -> dict[str, Any]:
    properties: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    in_args = False
    sphinx_types: dict[str, str] = {}
    last: str | None = None
    for line in (doc or "").splitlines():
        if match := _SPHINX.match(line):
            annotation, name, text = match.group(1) or "", match.group(2), match.group(3)
            prop, optional = _property(annotation, text)
            properties[name] = prop
            if not optional:
                required.append(name)
            last = name
            continue
        if match := _SPHINX_TYPE.match(line):
            sphinx_types[match.group(1)] = match.group(2)
            continue
        if _SECTION.match(line):
            in_args = True
            continue
        if in_args and _OTHER_SECTION.match(line):
            in_args = False
            continue
        if in_args and (match := _GOOGLE.match(line)) and not match.group(1).startswith("*"):
            name, annotation, text = match.group(1), match.group(2) or "", match.group(3)
            prop, optional = _property(annotation, text)
            properties[name] = prop
            if not optional:
                required.append(name)
            last = name
        elif in_args and last and line.strip():  # a description that goes on
            prop = properties[last]
            prop["description"] = f"{prop.get('description', '')} {line.strip()}".strip()
    for name, annotation in sphinx_types.items():
        if name in properties:
            json_type, optional = _json_type(annotation)
            if json_type:
                properties[name]["type"] = json_type
            if optional and name in required:
                required.remove(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def tool_parameters(entry: dict[str, Any]) -> dict[str, Any]:
    """The parameters schema of one `public_api` entry."""
    explicit = entry.get("parameters")
    if (
        isinstance(explicit, dict)
        and explicit.get("type") == "object"
        and isinstance(explicit.get("properties", {}), dict)
    ):
        return explicit
    doc = entry.get("help")
    return schema_from_docstring(doc) if isinstance(doc, str) else dict(NO_PARAMETERS)
