"""The fixed-shape code: gen/templates/NAME is a string.Template ($name placeholders; $$ is a
literal $).  render() fills one in; indent() and join() help emitters compose the text they
return."""

import os
import string

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
_cache = {}


def render(template, /, **fields):
    """gen/templates/<template> with every $placeholder replaced (all must be given: a
    missing one is a KeyError naming it)."""
    if template not in _cache:
        with open(os.path.join(TEMPLATE_DIR, template)) as f:
            _cache[template] = string.Template(f.read())
    return _cache[template].substitute(fields)


def indent(text, n=3):
    """text with every non-empty line indented by n spaces."""
    pad = " " * n
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def lines(items):
    """Text of the given lines, each ending in a newline."""
    return "".join(item + "\n" for item in items)


def template_files():
    return sorted(os.path.join(TEMPLATE_DIR, f) for f in os.listdir(TEMPLATE_DIR))
