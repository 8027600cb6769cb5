"""Loading and checking the flow files. A flow that could strand a person is refused at start."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from flows.machine import FlowMachine
from flows.schema import (
    FLOW_PREFIX,
    LANGUAGES,
    Common,
    Flow,
    Option,
    Routing,
    SignalModel,
    Signals,
    Step,
    System,
    Templates,
    Text,
    Triage,
)
from flows.text import normalize
from flows.triage_check import TriageError, check_triage

FLOWS_DIR = Path(__file__).parent
MODEL_FILE = "understanding/model.json"
EXAMPLES_FILE = "understanding/examples.yaml"
TEMPLATES_FILE = "templates.yaml"
TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]{1,31}")
TEMPLATE_LIMIT = 1500
SPECIAL_FILES = {"common.yaml", "system.yaml", "signals.yaml", "routing.yaml", "triage.yaml",
                 "templates.yaml"}
RESERVED_OPTION_IDS = {"done"}

REQUIRED_TEXTS = (
    "welcome", "help", "paused", "resumed", "human", "privacy", "delete_confirm", "deleted",
    "delete_cancelled", "restart_confirm", "restart_cancelled", "language_set", "unclear",
    "unclear_again", "which_of", "stale_button", "danger", "crisis", "attachment_saved",
    "attachment_unsupported", "unreadable", "flood", "empty", "error", "error_not_saved",
    "invalid_phone",
    "invalid_email",
    "invalid_date", "multi_chosen", "multi_more", "multi_done_label", "back_first",
    "previous_answer", "addition_saved", "confirm_yes", "confirm_no", "summary_nothing",
    "checkins_stopped", "wipe_confirm", "wipe_yes", "wipe_silent", "wipe_cancelled",
    "wipe_done", "wipe_left", "link_code", "link_wait", "linked", "linked_other", "link_wrong",
    "link_too_many", "link_same", "link_taken", "unlinked", "not_linked",
)
# Fields the routing texts fill in, besides the facts.
ROUTING_FIELDS = {"wait", "name", "role", "text", "specialty", "case", "urgent", "summary",
                  "intake", "kind", "channel", "outcome", "outcomes", "specialties", "cases",
                  "flow", "lang", "dates", "entries", "latitude", "longitude", "link",
                  "contact_name", "phone", "count", "texts", "level", "levels", "reasons",
                  "how", "templates", "title", "names", "colleague", "what", "when",
                  "minutes"}
# Fields the bot's own texts fill in, besides the facts.
SYSTEM_FIELDS = {"options", "date", "count", "code"}
START_FLOW = "menu"
_Model = TypeVar("_Model", Common, System, Signals, Flow, Routing, Triage, Templates)


class _FlowYamlLoader(yaml.SafeLoader):
    """YAML where only ``true``/``false`` are booleans: in flow files, yes/no/y/n are words."""


_BOOL = "tag:yaml.org,2002:bool"
_FlowYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FlowYamlLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|false)$"), list("tf"))


class FlowError(Exception):
    """A flow file is not valid; the message says which file and what is wrong."""


@dataclass(frozen=True)
class FlowSet:
    flows: dict[str, Flow]
    machines: dict[str, FlowMachine]
    system: System
    signals: Signals
    routing: Routing
    triage: Triage
    signal_model: SignalModel | None = None
    """The learned danger and crisis model, if the directory has one."""
    templates: Templates = field(default_factory=Templates)
    """The experts' canned replies (``templates.yaml``), if the directory has them."""

    def step(self, flow: str, state: str) -> Step:
        return self.flows[flow].steps[state]

    def text(self, key: str) -> Text:
        return self.system.texts[key]


def load_signals(directory: Path = FLOWS_DIR) -> Signals:
    """Only ``signals.yaml``, for tools that need its words without the flows."""
    return _parse(directory / "signals.yaml", Signals)


def load_flows(directory: Path = FLOWS_DIR, placeholders: Iterable[str] = ()) -> FlowSet:
    """Load every flow in ``directory`` and check it; ``placeholders`` are the fact names
    texts may use, such as ``{emergency_number}``."""
    allowed = set(placeholders)
    common = _parse(directory / "common.yaml", Common)
    system = _parse(directory / "system.yaml", System)
    signals = _parse(directory / "signals.yaml", Signals)
    routing = _parse(directory / "routing.yaml", Routing)
    triage = _parse(directory / "triage.yaml", Triage)
    _check_routing(routing, allowed | ROUTING_FIELDS)
    templates = _templates(directory / TEMPLATES_FILE, allowed)
    flows: dict[str, Flow] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name in SPECIAL_FILES:
            continue
        flow = _resolve(_parse(path, Flow), common, path)
        if flow.flow in flows:
            raise FlowError(f"{path.name}: flow {flow.flow!r} is defined twice")
        flows[flow.flow] = flow
    if START_FLOW not in flows:
        raise FlowError(f"there is no {START_FLOW!r} flow")
    _check_system(system, allowed | SYSTEM_FIELDS)
    command_words = {normalize(w) for words in system.commands.values() for w in words}
    for flow in flows.values():
        _check_flow(flow, set(flows), allowed, command_words)
        _check_specialties(flow, set(routing.specialties))
    try:
        check_triage(triage, flows)
    except TriageError as exc:
        raise FlowError(str(exc)) from exc
    return FlowSet(
        flows=flows,
        machines={name: FlowMachine(flow) for name, flow in flows.items()},
        system=system,
        signals=signals,
        routing=routing,
        triage=triage,
        signal_model=_signal_model(directory / MODEL_FILE),
        templates=templates,
    )


def _signal_model(path: Path) -> SignalModel | None:
    if not path.exists():
        return None
    try:
        return SignalModel.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise FlowError(f"{MODEL_FILE}: not a valid model ({exc.error_count()} errors)") from exc


def _parse(path: Path, model: type[_Model]) -> _Model:
    try:
        raw: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_FlowYamlLoader)  # noqa: S506
        return model.model_validate(raw)
    except FileNotFoundError as exc:
        raise FlowError(f"{path.name}: file is missing") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise FlowError(f"{path.name}: {exc}") from exc


def _resolve(flow: Flow, common: Common, path: Path) -> Flow:
    """Fill in shared steps and named option sets."""
    steps: dict[str, Step] = {}
    for name in flow.shared_steps:
        if name not in common.steps:
            raise FlowError(f"{path.name}: shared step {name!r} is not in common.yaml")
        steps[name] = common.steps[name]
    steps.update(flow.steps)
    resolved: dict[str, Step] = {}
    for name, step in steps.items():
        if isinstance(step.options, str):
            if step.options not in common.option_sets:
                raise FlowError(f"{path.name}: step {name!r} uses unknown option set "
                                f"{step.options!r}")
            step = step.model_copy(update={"options": common.option_sets[step.options]})
        resolved[name] = step
    return flow.model_copy(update={"steps": resolved})


def _texts_of(step: Step) -> Iterator[Text]:
    yield step.text
    for extra in (step.after, step.summary):
        if extra is not None:
            yield extra
    for option in step.option_list:
        yield option.label


def _check_placeholders(where: str, text: Text, allowed: set[str]) -> None:
    for language in LANGUAGES:
        for _, name, _, _ in string.Formatter().parse(text.get(language)):
            if name is not None and name not in allowed:
                raise FlowError(f"{where}: unknown placeholder {{{name}}} in the "
                                f"{language} text")


def _check_system(system: System, allowed: set[str]) -> None:
    missing = [t for t in REQUIRED_TEXTS if t not in system.texts]
    if missing:
        raise FlowError(f"system.yaml: missing {missing}")
    seen: dict[str, str] = {}
    for command, words in system.commands.items():
        for word in words:
            key = normalize(word)
            if key in seen and seen[key] != command:
                raise FlowError(f"system.yaml: {word!r} is a word of both {seen[key]!r} "
                                f"and {command!r}")
            seen[key] = command
    for language in LANGUAGES:
        listed = system.command_menu.get(language)
        if not listed:
            raise FlowError(f"system.yaml: command_menu has no {language!r} list")
        for entry in listed:
            if normalize("/" + entry.command) not in seen:
                raise FlowError(f"system.yaml: menu command /{entry.command} is not a command "
                                "word")
    for key, text in system.texts.items():
        _check_placeholders(f"system.yaml text {key!r}", text, allowed)


def _check_routing(routing: Routing, allowed: set[str]) -> None:
    seen: dict[str, str] = {}
    for command, words in routing.commands.items():
        for word in words:
            if " " in word.strip() or seen.setdefault(normalize(word), command) != command:
                raise FlowError(f"routing.yaml: {word!r} must be one word of one command")
    for key, text in routing.texts.items():
        _check_placeholders(f"routing.yaml text {key!r}", text, allowed)


def _templates(path: Path, allowed: set[str]) -> Templates:
    """The canned replies: a name is one lower-case word, a text fits in one chat message
    and fills in only the facts and the expert's first name."""
    if not path.exists():
        return Templates()
    templates = _parse(path, Templates)
    for name, template in templates.templates.items():
        if not TEMPLATE_NAME.fullmatch(name):
            raise FlowError(f"{path.name}: {name!r} must be one lower-case word")
        _check_placeholders(f"{path.name} title {name!r}", template.title, set())
        _check_placeholders(f"{path.name} text {name!r}", template.text, allowed | {"name"})
        for language in LANGUAGES:
            if len(template.text.get(language)) > TEMPLATE_LIMIT:
                raise FlowError(f"{path.name}: the {language} text of {name!r} is longer "
                                f"than {TEMPLATE_LIMIT} characters")
    return templates


def _check_specialties(flow: Flow, known: set[str]) -> None:
    named = set(flow.specialties) | {s for step in flow.steps.values()
                                     for o in step.option_list for s in o.specialties}
    if unknown := sorted(named - known):
        raise FlowError(f"flow {flow.flow!r}: unknown specialties {unknown} "
                        "(see routing.yaml)")


def _targets(step: Step) -> list[str]:
    targets = [o.next or step.next for o in step.option_list]
    if step.next:
        targets.append(step.next)
    return [t for t in targets if t]


def _check_flow(flow: Flow, flow_names: set[str], allowed: set[str],
                command_words: set[str]) -> None:
    where = f"flow {flow.flow!r}"
    if flow.start not in flow.steps:
        raise FlowError(f"{where}: start step {flow.start!r} does not exist")
    has_summary = any(s.type == "summary" for s in flow.steps.values())
    for name, step in flow.steps.items():
        here = f"{where}, step {name!r}"
        for text in _texts_of(step):
            _check_placeholders(here, text, allowed)
        _check_options(here, step.option_list, command_words)
        if step.type == "info" and (step.option_list or not step.next):
            raise FlowError(f"{here}: an info step needs a next step and no options")
        if step.type in ("choice", "summary") and not step.option_list:
            raise FlowError(f"{here}: a {step.type} step needs options")
        if step.type == "text" and not step.next:
            raise FlowError(f"{here}: a text step needs a next step")
        if step.multi and (step.type != "choice" or not step.next):
            raise FlowError(f"{here}: only a choice step with a next step can be multi")
        if step.type == "correct" and not has_summary:
            raise FlowError(f"{here}: a correct step needs a summary step in the flow")
        for option in step.option_list:
            if not (option.next or step.next):
                raise FlowError(f"{here}: option {option.id!r} leads nowhere")
        for target in _targets(step):
            if target.startswith(FLOW_PREFIX):
                if target.removeprefix(FLOW_PREFIX) not in flow_names:
                    raise FlowError(f"{here}: goes to unknown flow {target!r}")
            elif target not in flow.steps:
                raise FlowError(f"{here}: goes to unknown step {target!r}")
    edges = _edges(flow)
    reachable = _reach(flow.start, edges)
    unreachable = sorted(set(flow.steps) - reachable)
    if unreachable:
        raise FlowError(f"{where}: steps {unreachable} can never be reached")
    exits = {n for n, s in flow.steps.items() if s.type == "end"} | {
        n for n in flow.steps if any(t.startswith(FLOW_PREFIX) for t in edges[n])
    }
    for name in flow.steps:
        if not _reach(name, edges) & exits:
            raise FlowError(f"{where}: from step {name!r} there is no way to an end")


def _edges(flow: Flow) -> dict[str, set[str]]:
    edges = {name: set(_targets(step)) for name, step in flow.steps.items()}
    for name, step in flow.steps.items():
        if step.type == "correct":
            edges[name] |= {n for n, s in flow.steps.items() if s.summary is not None}
    return edges


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen and not target.startswith(FLOW_PREFIX):
                seen.add(target)
                todo.append(target)
    return seen


def _check_options(where: str, options: tuple[Option, ...], command_words: set[str]) -> None:
    ids: set[str] = set()
    words: dict[str, str] = {}
    for option in options:
        if option.id in ids or option.id in RESERVED_OPTION_IDS:
            raise FlowError(f"{where}: option id {option.id!r} is repeated or reserved")
        ids.add(option.id)
        for word in (*option.words, option.label.nl, option.label.en):
            key = normalize(word)
            if key in command_words:
                raise FlowError(f"{where}: option word {word!r} is also a command word")
            if words.get(key, option.id) != option.id:
                raise FlowError(f"{where}: word {word!r} fits options {words[key]!r} "
                                f"and {option.id!r}")
            words[key] = option.id
