# SPDX-License-Identifier: BSD-3-Clause
"""argtree.py: sluicectl's argument parser as a tree of commands, for the
generators of its man page (mkman.py) and its bash completion
(mkcompletion.py). It loads control/sluicectl as a module (nothing runs:
main() is behind `if __name__ == "__main__"`) and reads argparse's parsers.
"""
import argparse
import importlib.machinery
import importlib.util
import re


def load_sluicectl(path):
    """sluicectl (a script without .py) as a module."""
    loader = importlib.machinery.SourceFileLoader("sluicectl", path)
    spec = importlib.util.spec_from_loader("sluicectl", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def subparsers_action(parser):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            return a
    return None


def subcommands(parser):
    """[(name, aliases, parser, help)] of a parser's commands, in order."""
    action = subparsers_action(parser)
    if action is None:
        return []
    helps = {c.dest: c.help for c in action._choices_actions}
    out, seen = [], {}
    for name, p in action.choices.items():
        if id(p) in seen:
            seen[id(p)][1].append(name)  # an alias of the command before
            continue
        entry = (name, [], p, helps.get(name, ""))
        seen[id(p)] = entry
        out.append(entry)
    return out


def commands(parser, path=()):
    """Depth first: (path of words, parser, help) of every command and group."""
    for name, _aliases, p, help_ in subcommands(parser):
        yield path + (name,), p, help_
        yield from commands(p, path + (name,))


def global_dests(parser):
    """The dests of the options every command accepts (sluicectl's COMMON parent)."""
    top = {a.dest for a in parser._actions if a.option_strings}
    for _name, _aliases, p, _help in subcommands(parser):
        top &= {a.dest for a in p._actions if a.option_strings}
    return top - {"help"}


def invocation(parser, action):
    """'-n NAME, --name NAME' as argparse's help shows it."""
    return parser._get_formatter()._format_action_invocation(action)


def help_text(action):
    """The option's help with %(default)s and the like filled in."""
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    params = dict(vars(action), prog="sluicectl")
    if params.get("choices") is not None:
        params["choices"] = ", ".join(str(c) for c in params["choices"])
    try:
        return action.help % params
    except (KeyError, TypeError, ValueError):
        return action.help


def takes_value(action):
    return action.option_strings and action.nargs != 0


def choices_of(action):
    """The values an option takes, when it names them: its choices, or a
    metavar written {A,B,C} (sluicectl's case-insensitive enumerations)."""
    if action.choices:
        return [str(c) for c in action.choices]
    m = re.fullmatch(r"\{([^{}]+)\}", action.metavar) if isinstance(action.metavar, str) else None
    return m.group(1).split(",") if m else []
