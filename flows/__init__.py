"""Conversation flows as data: YAML files checked when loaded, one state machine per flow."""

from flows.loader import FlowError, FlowSet, load_flows
from flows.schema import Flow, Option, Step, Text

__all__ = ["Flow", "FlowError", "FlowSet", "Option", "Step", "Text", "load_flows"]
