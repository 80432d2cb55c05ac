"""What `sam local invoke` reads from template.yaml: one function's settings, resolved.

No I/O here besides what the caller hands in (the template, the parameters, the stack's
outputs), so every rule is unit-tested. The intrinsics a local stack would resolve are
resolved the same way: parameters from the template's defaults, deploy's local parameters and
``--parameter-overrides``; references to stack resources from the deployed stack's outputs
(``.state/stack-outputs.json``: the template's ``Outputs`` say which output holds which
``!Ref``/``!GetAtt``). What cannot be resolved (no stack) is :class:`Unresolved` and left unset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1", "AWS::AccountId": "000000000000", "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": "",
}


class TemplateError(Exception):
    """The template (or the command line) does not describe a function we can run."""


@dataclass(frozen=True)
class Unresolved:
    """A value only the deployed stack knows (and why it is not known here)."""

    reason: str


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    code_uri: str
    handler: str
    runtime: str
    timeout_s: int
    memory_mb: int
    layers: list[str]  # logical ids of the template's own layers, in order
    environment: dict[str, str]
    unresolved: dict[str, str] = field(default_factory=dict)  # variable -> why it is unset


def _tag_and_value(node: Any) -> tuple[str, Any] | None:
    """``("Ref", value)`` for both ``!Ref x`` (deploy's Tagged) and ``{"Ref": x}``."""
    tag = getattr(node, "tag", None)
    if isinstance(tag, str):
        name = tag.lstrip("!")
        return ("Ref" if name == "Ref" else f"Fn::{name}" if name != "Condition" else "Condition"), node.value
    if isinstance(node, dict) and len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref" or key.startswith("Fn::") or key == "Condition":
            return key, value
    return None


def _getatt_parts(value: Any) -> tuple[str, str]:
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return resource, attribute
    return str(value[0]), str(value[1])


class Resolver:
    """Resolves the intrinsic functions of one template for one set of parameters and outputs."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str],
                 outputs: dict[str, str] | None, stack_name: str = "photostack") -> None:
        self.template = template
        self.parameters = {name: str(spec["Default"]) for name, spec in template.get("Parameters", {}).items()
                           if "Default" in spec} | parameters
        self.pseudo = PSEUDO_PARAMETERS | {"AWS::StackName": stack_name}
        self.outputs = outputs
        # Which stack output carries which reference, read off the template's own Outputs.
        self.refs: dict[str, str] = {}
        self.getatts: dict[tuple[str, str], str] = {}
        for key, output in template.get("Outputs", {}).items():
            found = _tag_and_value(output.get("Value"))
            if outputs is None or key not in outputs or found is None:
                continue
            kind, value = found
            if kind == "Ref":
                self.refs[str(value)] = outputs[key]
            elif kind == "Fn::GetAtt":
                self.getatts[_getatt_parts(value)] = outputs[key]

    def condition(self, name: str) -> bool:
        conditions = self.template.get("Conditions", {})
        if name not in conditions:
            raise TemplateError(f"unknown condition {name!r}")
        return self._truth(conditions[name])

    def _truth(self, node: Any) -> bool:
        found = _tag_and_value(node)
        if found is None:
            raise TemplateError(f"not a condition: {node!r}")
        kind, value = found
        if kind == "Condition":
            return self.condition(str(value))
        if kind == "Fn::Equals":
            left, right = (self.resolve(v) for v in value)
            if isinstance(left, Unresolved) or isinstance(right, Unresolved):
                raise TemplateError(f"condition needs a value the stack holds: {left or right}")
            return str(left) == str(right)
        if kind == "Fn::Not":
            return not self._truth(value[0])
        if kind == "Fn::And":
            return all(self._truth(v) for v in value)
        if kind == "Fn::Or":
            return any(self._truth(v) for v in value)
        raise TemplateError(f"unsupported condition function {kind}")

    def resolve(self, node: Any) -> str | Unresolved:
        if isinstance(node, bool):
            return "true" if node else "false"
        if isinstance(node, (str, int, float)):
            return str(node)
        found = _tag_and_value(node)
        if found is None:
            raise TemplateError(f"unsupported value {node!r}")
        kind, value = found
        if kind == "Ref":
            return self._ref(str(value))
        if kind == "Fn::GetAtt":
            return self._getatt(*_getatt_parts(value))
        if kind == "Fn::If":
            name, when_true, when_false = value
            return self.resolve(when_true if self.condition(str(name)) else when_false)
        if kind == "Fn::Sub":
            return self._sub(value)
        if kind == "Fn::Join":
            delimiter, items = value
            parts = [self.resolve(item) for item in items]
            missing = [p for p in parts if isinstance(p, Unresolved)]
            return missing[0] if missing else str(delimiter).join(str(p) for p in parts)
        raise TemplateError(f"unsupported intrinsic function {kind}")

    def _ref(self, name: str) -> str | Unresolved:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.template.get("Parameters", {}):
            return Unresolved(f"parameter {name} has no value (pass --parameter-overrides {name}=...)")
        if name not in self.template.get("Resources", {}):
            raise TemplateError(f"!Ref to unknown {name!r}")
        if name in self.refs:
            return self.refs[name]
        return Unresolved(self._why_not_deployed(name))

    def _getatt(self, resource: str, attribute: str) -> str | Unresolved:
        if resource not in self.template.get("Resources", {}):
            raise TemplateError(f"!GetAtt on unknown resource {resource!r}")
        if (resource, attribute) in self.getatts:
            return self.getatts[(resource, attribute)]
        return Unresolved(self._why_not_deployed(f"{resource}.{attribute}"))

    def _why_not_deployed(self, what: str) -> str:
        if self.outputs is None:
            return f"{what} is a resource of the deployed stack, and the stack is not up (make up)"
        return f"{what} is not among the deployed stack's outputs"

    def _sub(self, value: Any) -> str | Unresolved:
        text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
        missing: list[Unresolved] = []

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                result = self.resolve(variables[name])
            elif "." in name and name.split(".", 1)[0] in self.template.get("Resources", {}):
                result = self._getatt(*name.split(".", 1))
            else:
                result = self._ref(name)
            if isinstance(result, Unresolved):
                missing.append(result)
                return ""
            return result

        resolved = re.sub(r"\$\{([^}]+)\}", replace, str(text))
        return missing[0] if missing else resolved


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template.get("Resources", {}).items()
            if r.get("Type") == "AWS::Serverless::Function"}


def find_function(template: dict[str, Any], identifier: str | None) -> str:
    """The logical id named by ``identifier`` (a logical id or a FunctionName), as SAM does."""
    candidates = functions(template)
    if identifier is None:
        if len(candidates) == 1:
            return next(iter(candidates))
        raise TemplateError("the template has several functions; name one: " + ", ".join(sorted(candidates)))
    if identifier in candidates:
        return identifier
    for logical_id, resource in candidates.items():
        if resource.get("Properties", {}).get("FunctionName") == identifier:
            return logical_id
    raise TemplateError(f"no function {identifier!r} in the template; there are: "
                        + ", ".join(sorted(candidates)))


def function_spec(template: dict[str, Any], identifier: str | None, resolver: Resolver,
                  env_overrides: dict[str, dict[str, str]] | None = None) -> FunctionSpec:
    """One function's settings with Globals applied (lists appended, maps merged, as SAM does)."""
    logical_id = find_function(template, identifier)
    resource = template["Resources"][logical_id]
    if "Condition" in resource and not resolver.condition(resource["Condition"]):
        raise TemplateError(f"{logical_id} is not part of the stack for these parameters "
                            f"(its condition {resource['Condition']} is false)")
    glob = template.get("Globals", {}).get("Function", {})
    props = resource.get("Properties", {})

    def setting(key: str, default: Any = None) -> Any:
        return props.get(key, glob.get(key, default))

    for key in ("CodeUri", "Handler", "Runtime"):
        if setting(key) is None:
            raise TemplateError(f"{logical_id} has no {key}")
    if not isinstance(setting("CodeUri"), str) or "://" in setting("CodeUri"):
        raise TemplateError(f"{logical_id}: only a local CodeUri folder can run here")
    layers = []
    for entry in [*glob.get("Layers", []), *props.get("Layers", [])]:
        found = _tag_and_value(entry)
        if found is None or found[0] != "Ref" or found[1] not in template.get("Resources", {}):
            raise TemplateError(f"{logical_id}: layer {entry!r} is not one of this template's layers "
                                "(a published layer ARN cannot be fetched locally)")
        layers.append(str(found[1]))

    declared = {**(glob.get("Environment", {}).get("Variables") or {}),
                **(props.get("Environment", {}).get("Variables") or {})}
    environment: dict[str, str] = {}
    unresolved: dict[str, str] = {}
    for var, value in declared.items():
        resolved = resolver.resolve(value)
        if isinstance(resolved, Unresolved):
            unresolved[var] = resolved.reason
        else:
            environment[var] = resolved
    # --env-vars: like SAM, "Parameters" applies to every function, then the function's own
    # entry (by logical id or name); only variables the template declares are set.
    name = str(props.get("FunctionName") or logical_id)
    overrides = env_overrides or {}
    for source in (overrides.get("Parameters", {}), overrides.get(name, {}), overrides.get(logical_id, {})):
        for var, value in source.items():
            if var in declared:
                environment[var] = str(value)
                unresolved.pop(var, None)
    return FunctionSpec(
        logical_id=logical_id, name=name, code_uri=str(setting("CodeUri")),
        handler=str(setting("Handler")), runtime=str(setting("Runtime")),
        timeout_s=int(setting("Timeout", 3)), memory_mb=int(setting("MemorySize", 128)),
        layers=layers, environment=environment, unresolved=unresolved,
    )


def ignored_overrides(template: dict[str, Any], spec: FunctionSpec,
                      env_overrides: dict[str, dict[str, str]]) -> list[str]:
    """Variables in --env-vars for this function that the template does not declare (SAM ignores them)."""
    glob = template.get("Globals", {}).get("Function", {})
    props = template["Resources"][spec.logical_id].get("Properties", {})
    declared = {**(glob.get("Environment", {}).get("Variables") or {}),
                **(props.get("Environment", {}).get("Variables") or {})}
    given = {var for key in ("Parameters", spec.name, spec.logical_id) for var in env_overrides.get(key, {})}
    return sorted(given - set(declared))


def parse_parameter_overrides(items: list[str]) -> dict[str, str]:
    """SAM's two spellings: ``K=V`` and ``ParameterKey=K,ParameterValue=V``."""
    parameters: dict[str, str] = {}
    for item in items:
        match = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", item)
        if match:
            parameters[match.group(1)] = match.group(2)
            continue
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise TemplateError(f"--parameter-overrides takes KEY=VALUE, got {item!r}")
        parameters[key] = value
    return parameters
