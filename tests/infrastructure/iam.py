"""Least privilege as a comparison: the IAM calls a function makes against what its role grants.

* :class:`CallRecorder` is a pair of botocore hooks. Every API call a client makes becomes the
  IAM action(s) it is authorised by and the resource ARN it targets (:func:`needs_of_call`); a
  read of a missing S3 key also needs ``s3:ListBucket`` with that key as ``s3:prefix``, since
  only then does S3 answer 404 instead of 403.
* :func:`platform_needs` adds what Lambda itself does with the function's role, read from the
  function's configuration: the SQS event source polls, the runtime writes logs, active tracing
  sends segments.
* :class:`Resolver` turns the role's policies into plain ARNs (``Ref``, ``Fn::GetAtt``,
  ``Fn::Sub``, ``Fn::If`` under given parameter values), and :func:`compare` reports each need
  no statement allows (missing) and each granted (action, resource) no need uses (unused).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from .cfn import Template, referenced_ids

# --------------------------------------------------------------------------- needs


@dataclass(frozen=True, order=True)
class Need:
    """One (IAM action, resource ARN) a function needs, with the condition keys of the call."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    why: str = field(default="", compare=False)

    def __str__(self) -> str:
        keys = "".join(f" [{key}={value}]" for key, value in self.context)
        return f"{self.action} on {self.resource}{keys} (needed by {self.why})"


# API operations authorised by another action than their own name.
RENAMED_ACTIONS: dict[str, str] = {
    "s3:HeadObject": "s3:GetObject",
    "s3:ListObjects": "s3:ListBucket",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:CreateMultipartUpload": "s3:PutObject",
    "s3:UploadPart": "s3:PutObject",
    "s3:CompleteMultipartUpload": "s3:PutObject",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
# TransactWriteItems is authorised item by item, by the action of each item's kind.
TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
MISSING_KEY_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def needs_of_call(
    service: str, operation: str, params: Mapping[str, Any], *, region: str, account: str
) -> list[Need]:
    """The IAM action(s) and resource(s) that authorise one API call."""
    why = f"{service}.{operation}"
    action = RENAMED_ACTIONS.get(f"{service}:{operation}", f"{service}:{operation}")
    if service == "s3":
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        if "Key" in params:
            return [Need(action, f"{bucket}/{params['Key']}", why=why)]
        context = (("s3:prefix", str(params["Prefix"])),) if "Prefix" in params else ()
        return [Need(action, bucket, context, why=why)]
    if service == "dynamodb":
        table = f"arn:aws:dynamodb:{region}:{account}:table/"
        if operation in ("TransactWriteItems", "TransactGetItems"):
            return [
                Need(TRANSACT_ITEM_ACTIONS[kind], table + body["TableName"], why=why)
                for item in params["TransactItems"]
                for kind, body in item.items()
            ]
        if "RequestItems" in params:  # BatchWriteItem, BatchGetItem: one action, every table
            return [Need(action, table + name, why=why) for name in params["RequestItems"]]
        resource = table + params["TableName"]
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [Need(action, resource, why=why)]
    if service == "sqs":
        if "QueueUrl" in params:
            owner, name = urlparse(params["QueueUrl"]).path.strip("/").split("/")[-2:]
        else:  # GetQueueUrl
            owner, name = params.get("QueueOwnerAWSAccountId", account), params["QueueName"]
        return [Need(action, f"arn:aws:sqs:{region}:{owner}:{name}", why=why)]
    return [Need(action, "*", why=why)]


class CallRecorder:
    """botocore hooks recording the needs of every call made while a function is "running".

    Register on a session before the handlers create their clients: clients copy the session's
    hooks when they are created. ``before-parameter-build`` sees the call's own parameters (the
    serialised request of ``before-call`` does not) and runs for stubbed calls too.
    """

    def __init__(self, *, region: str, account: str) -> None:
        self.region = region
        self.account = account
        self.needs: dict[str, set[Need]] = {}
        self._function: str | None = None

    def attach(self, events: Any) -> None:
        events.register("before-parameter-build.*.*", self._before, unique_id="iam-recorder-b")
        events.register("after-call.*.*", self._after, unique_id="iam-recorder-a")

    @contextmanager
    def calls_of(self, function_id: str) -> Iterator[None]:
        """Attribute the calls made inside the block to ``function_id``."""
        self._function = function_id
        self.needs.setdefault(function_id, set())
        try:
            yield
        finally:
            self._function = None

    def _before(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if self._function is None:
            return
        service = model.service_model.signing_name
        context["iam_call"] = (service, model.name, dict(params))
        self.needs[self._function].update(
            needs_of_call(service, model.name, params, region=self.region, account=self.account)
        )

    def _after(self, parsed: Mapping[str, Any], context: Mapping[str, Any], **_: Any) -> None:
        call = context.get("iam_call")
        if self._function is None or call is None:
            return
        service, operation, params = call
        code = str(parsed.get("Error", {}).get("Code", ""))
        if (
            service == "s3"
            and operation in ("GetObject", "HeadObject")
            and code in MISSING_KEY_CODES
        ):
            # S3 answers 404 for a missing key only to a caller who may list that key.
            self.needs[self._function].add(
                Need(
                    "s3:ListBucket",
                    f"arn:aws:s3:::{params['Bucket']}",
                    (("s3:prefix", str(params["Key"])),),
                    why=f"s3.{operation} of a missing key answering 404",
                )
            )


# --------------------------------------------------------------------------- the template

_NO_VALUE = object()


@dataclass(frozen=True)
class Deployed:
    """What ``Ref`` and ``Fn::GetAtt`` of one resource return once it exists."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


class Resolver:
    """Intrinsic functions -> plain values, for one set of parameter values."""

    def __init__(
        self,
        template: Template,
        deployed: Mapping[str, Deployed],
        parameters: Mapping[str, str],
        *,
        region: str,
        account: str,
    ) -> None:
        self.template = template
        self.deployed = deployed
        self.region = region
        self.account = account
        defaults = {
            name: str(spec.get("Default", ""))
            for name, spec in template.get("Parameters", {}).items()
        }
        self.parameters = {**defaults, **parameters}

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "newsflow-test",
            "AWS::NoValue": _NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self._deployed(name).ref

    def get_att(self, name: str, attribute: str) -> str:
        return self._deployed(name).attributes[attribute]

    def _deployed(self, name: str) -> Deployed:
        if name not in self.deployed:
            raise KeyError(f"no deployed value for {name}: add it to the test's stack")
        return self.deployed[name]

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self.template["Conditions"][name]))

    def _evaluate(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, args),) = value.items()
            if key == "Fn::Equals":
                return self.resolve(args[0]) == self.resolve(args[1])
            if key == "Fn::Not":
                return not self._evaluate(args[0])
            if key == "Fn::And":
                return all(self._evaluate(arg) for arg in args)
            if key == "Fn::Or":
                return any(self._evaluate(arg) for arg in args)
            if key == "Condition":
                return self.condition(args)
        return self.resolve(value)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, args),) = value.items()
            if key == "Ref":
                return self.ref(args)
            if key == "Fn::GetAtt":
                name, attribute = args.split(".", 1) if isinstance(args, str) else args
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                return self._sub(args)
            if key == "Fn::If":
                condition, when_true, when_false = args
                return self.resolve(when_true if self.condition(condition) else when_false)
            if key == "Fn::Join":
                return str(args[0]).join(str(part) for part in self.resolve(args[1]))
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not resolved by this test")
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _sub(self, args: Any) -> str:
        text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])
        values = {name: self.resolve(inner) for name, inner in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name:
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)


# --------------------------------------------------------------------------- grants


@dataclass(frozen=True, order=True)
class Grant:
    """One (action, resource) an Allow statement grants, under its condition (JSON, or "")."""

    action: str
    resource: str
    condition: str = ""
    sid: str = field(default="", compare=False)

    def __str__(self) -> str:
        condition = f" if {self.condition}" if self.condition else ""
        return f"{self.action} on {self.resource}{condition} (statement {self.sid or '?'})"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_grants(template: Template, role_id: str, resolver: Resolver) -> list[Grant]:
    """Every (action, resource) the role's policies allow, resolved for the resolver's values.

    Inline policies and any policy of the template attached to the role count; a managed
    policy ARN or a Deny/NotAction/NotResource statement fails loudly (not modelled here).
    """
    role = template["Resources"][role_id]["Properties"]
    if role.get("ManagedPolicyArns"):
        raise NotImplementedError(f"{role_id} attaches managed policies: list their grants here")
    documents = [policy["PolicyDocument"] for policy in resolver.resolve(role.get("Policies", []))]
    for other in template["Resources"].values():
        attached = other["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and (
            role_id in referenced_ids(other["Properties"].get("Roles", []))
        )
        if attached:
            documents.append(resolver.resolve(other["Properties"]["PolicyDocument"]))
    grants: list[Grant] = []
    for document in documents:
        for statement in _as_list(document["Statement"]):
            unsupported = {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
            if statement["Effect"] != "Allow" or unsupported:
                raise NotImplementedError(f"{role_id}: only plain Allow statements are modelled")
            condition = json.dumps(statement.get("Condition", {}), sort_keys=True)
            grants.extend(
                Grant(
                    action,
                    resource,
                    condition if "Condition" in statement else "",
                    sid=statement.get("Sid", ""),
                )
                for action in _as_list(statement["Action"])
                for resource in _as_list(statement["Resource"])
            )
    return grants


def _matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcard match: ``*`` any run of characters, ``?`` one character."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    flags = re.IGNORECASE if ignore_case else 0
    return re.fullmatch(regex, value, flags | re.DOTALL) is not None


def _condition_holds(condition: str, context: tuple[tuple[str, str], ...]) -> bool:
    if not condition:
        return True
    known = {key.lower(): value for key, value in context}
    for operator, tests in json.loads(condition).items():
        if operator not in ("StringEquals", "StringLike"):
            raise NotImplementedError(f"condition operator {operator} is not modelled")
        for key, allowed in tests.items():
            value = known.get(key.lower())
            if value is None:
                return False
            if operator == "StringEquals" and value not in _as_list(allowed):
                return False
            if operator == "StringLike" and not any(_matches(p, value) for p in _as_list(allowed)):
                return False
    return True


def allows(grant: Grant, need: Need) -> bool:
    return (
        _matches(grant.action, need.action, ignore_case=True)
        and _matches(grant.resource, need.resource)
        and _condition_holds(grant.condition, need.context)
    )


@dataclass(frozen=True)
class Comparison:
    role_id: str
    missing: tuple[Need, ...]
    unused: tuple[Grant, ...]

    @property
    def exact(self) -> bool:
        return not self.missing and not self.unused

    def report(self) -> str:
        lines = [f"{self.role_id}:"]
        lines += [f"  missing grant: {need}" for need in self.missing]
        lines += [f"  unused grant:  {grant}" for grant in self.unused]
        return "\n".join(lines)


def compare(role_id: str, needs: set[Need], grants: list[Grant]) -> Comparison:
    """Needs no grant allows, and grants that allow none of the needs."""
    missing = tuple(sorted(n for n in needs if not any(allows(g, n) for g in grants)))
    unused = tuple(sorted({g for g in grants if not any(allows(g, n) for n in needs)}))
    return Comparison(role_id, missing, unused)


# --------------------------------------------------------------------------- Lambda's own calls

LOG_STREAM = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"


def platform_needs(template: Template, function_id: str, resolver: Resolver) -> set[Need]:
    """What the Lambda service does with the function's role, from its configuration.

    * SQS event source: the poller receives, deletes and reads the queue's attributes (it never
      changes visibility: a failed record simply becomes visible again after the timeout).
    * Logs: the runtime creates a stream in the configured group and puts events.
    * ``TracingConfig: Active``: the X-Ray daemon sends segments and telemetry (no resource
      type exists for either action).
    """
    props = template["Resources"][function_id]["Properties"]
    needs: set[Need] = set()
    for mapping in template["Resources"].values():
        if mapping["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        if referenced_ids(mapping["Properties"]["FunctionName"]) != {function_id}:
            continue
        queue = resolver.resolve(mapping["Properties"]["EventSourceArn"])
        why = "the SQS event source mapping (Lambda service)"
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            needs.add(Need(action, queue, why=why))
    group = resolver.resolve(props["LoggingConfig"]["LogGroup"])
    stream = f"arn:aws:logs:{resolver.region}:{resolver.account}:log-group:{group}:log-stream:"
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        needs.add(Need(action, stream + LOG_STREAM, why="the Lambda runtime's logs"))
    if props.get("TracingConfig", {}).get("Mode") == "Active":
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"):
            needs.add(Need(action, "*", why="active tracing (X-Ray)"))
    return needs


def function_role(template: Template, function_id: str) -> str:
    (role_id,) = referenced_ids(template["Resources"][function_id]["Properties"]["Role"])
    return role_id
