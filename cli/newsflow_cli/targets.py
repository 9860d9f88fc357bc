"""Where CLI commands send and read data: the local stack or a deployed stack, same code.

* ``--stack NAME`` (or ``NEWSFLOW_STACK``): a CloudFormation stack on AWS, found with the usual
  AWS environment (profile, region, credentials). Its outputs and functions are read with boto3.
* otherwise the local stack that ``newsflow local up`` runs, found through the state file it
  writes (``.newsflow/local.json`` in the current folder) and checked to be answering;
* otherwise, when the current folder has a ``samconfig.toml``, the stack ``sam deploy`` deploys
  by default (its ``stack_name``), so after a deploy the commands need no flag.

A running local stack comes before samconfig.toml because the project ships a samconfig.toml:
someone trying the pipeline locally must never reach AWS by accident.

``demo`` and the tests start a local stack in their own process and wrap it the same way.
"""

from __future__ import annotations

import json
import os
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from newsflow_cli.lambda_runtime import BuildLocation, ContainerPool
from newsflow_cli.local_stack import LocalStack, local_session
from newsflow_cli.poller import Poller
from newsflow_cli.stacks import (
    StackDescription,
    describe_stack,
    description_from_dict,
    description_to_dict,
)

STATE_DIR = Path(".newsflow")
STATE_FILE_NAME = "local.json"
SAMCONFIG = Path("samconfig.toml")
LOOPBACK_SETTING = "NEWSFLOW_ALLOW_LOOPBACK"


class TargetError(Exception):
    """No usable stack: the message tells the user what to do, in one line."""


def local_overrides(environ: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """Environment the local stack adds to every function.

    The page server lives on 127.0.0.1, so the fetcher must accept loopback - unless the caller
    explicitly set ``NEWSFLOW_ALLOW_LOOPBACK=false`` (then loopback URLs end ``blocked_url``,
    which proves the guard works).
    """
    caller = environ.get(LOOPBACK_SETTING, "").strip().lower()
    return {LOOPBACK_SETTING: "false" if caller == "false" else "true"}


@dataclass
class Target:
    """A stack the CLI can push to, read from and run handlers against."""

    kind: str  # "local" | "aws"
    description: StackDescription
    region: str
    session: boto3.Session
    endpoint_url: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # `--from-build`: the functions run from `sam build` output instead of the code folders.
    build: BuildLocation | None = None
    # Most worker processes per function (None: each mapping's MaximumConcurrency).
    max_workers: int | None = None
    # Services the local stack serves from a server of their own: service -> endpoint URL.
    endpoints: dict[str, str] = field(default_factory=dict)

    @property
    def outputs(self) -> dict[str, str]:
        return self.description.outputs

    def output(self, key: str) -> str:
        try:
            return self.description.outputs[key]
        except KeyError:
            known = ", ".join(sorted(self.description.outputs)) or "none"
            raise TargetError(
                f"stack {self.description.stack_name} has no output {key} (outputs: {known})"
            ) from None

    def client(self, service: str) -> Any:
        endpoint = self.endpoints.get(service, self.endpoint_url)
        return self.session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]

    def runtime_env(self) -> dict[str, str]:
        """What a function needs to reach this stack's services from this process."""
        env = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.kind == "local":
            credentials = self.session.get_credentials()
            assert credentials is not None
            env["AWS_ACCESS_KEY_ID"] = credentials.access_key
            env["AWS_SECRET_ACCESS_KEY"] = credentials.secret_key
            if self.endpoint_url:
                env["AWS_ENDPOINT_URL"] = self.endpoint_url
            for service, endpoint in self.endpoints.items():
                env[f"AWS_ENDPOINT_URL_{service.upper()}"] = endpoint
        return env

    def container_pool(self, echo: TextIO | None = None) -> ContainerPool:
        return ContainerPool(
            runtime_env=self.runtime_env(),
            overrides=self.overrides,
            # Locally no real credential, profile or endpoint of the caller may leak in;
            # against AWS the caller's credentials are exactly what the handler must use.
            clean_aws_env=self.kind == "local",
            echo=echo,
            build=self.build,
        )

    def poller(self, echo: TextIO | None = None, **kwargs: Any) -> Poller:
        kwargs.setdefault("max_workers", self.max_workers)
        # Every mapping long-polls while batches of every function delete at once: more
        # connections than botocore's default pool of 10.
        sqs = self.session.client(
            "sqs",
            endpoint_url=self.endpoints.get("sqs", self.endpoint_url),
            config=Config(max_pool_connections=64),
        )
        return Poller(
            description=self.description,
            sqs=sqs,
            pool=self.container_pool(echo),
            region=self.region,
            **kwargs,
        )


# --------------------------------------------------------------------------- local


def local_target(
    stack: LocalStack,
    overrides: dict[str, str] | None = None,
    *,
    build_dir: Path | None = None,
) -> Target:
    """The local stack as a target; ``build_dir`` (``.aws-sam/build``) runs the functions from
    the ``sam build`` output (``--from-build``)."""
    build = None
    if build_dir is not None:
        try:
            build = BuildLocation.of(build_dir, stack.template)
        except FileNotFoundError as exc:
            raise TargetError(str(exc)) from exc
    return Target(
        kind="local",
        description=stack.description,
        region=stack.region,
        session=stack.session(),
        endpoint_url=stack.endpoint_url,
        overrides=dict(overrides if overrides is not None else local_overrides(os.environ)),
        build=build,
        endpoints=dict(stack.endpoints),
    )


def state_path(state_dir: Path = STATE_DIR) -> Path:
    return state_dir / STATE_FILE_NAME


def write_state(
    target: Target, state_dir: Path = STATE_DIR, **extra: Any
) -> Path:  # pragma: no branch
    path = state_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "endpoint_url": target.endpoint_url,
        "endpoints": target.endpoints,
        "region": target.region,
        "overrides": target.overrides,
        "pid": os.getpid(),
        "stack": description_to_dict(target.description),
        **extra,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def remove_state(state_dir: Path = STATE_DIR) -> None:
    state_path(state_dir).unlink(missing_ok=True)


def _answers(endpoint_url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(endpoint_url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout):
            return True
    except OSError:
        return False


def read_local_target(state_dir: Path = STATE_DIR) -> Target:
    path = state_path(state_dir)
    if not path.is_file():
        raise TargetError(
            "no stack configured: start the local stack with `newsflow local up` "
            "(in another terminal), or name a deployed one with --stack NAME / NEWSFLOW_STACK"
        )
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        description = description_from_dict(state["stack"])
        endpoint_url = str(state["endpoint_url"])
        region = str(state["region"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TargetError(f"{path} is not a local stack state file ({exc}); delete it") from exc
    if not _answers(endpoint_url):
        raise TargetError(
            f"the local stack in {path} is not running (nothing answers at {endpoint_url}); "
            "start it with `newsflow local up`"
        )
    return Target(
        kind="local",
        description=description,
        region=region,
        session=local_session(region),
        endpoint_url=endpoint_url,
        overrides=dict(state.get("overrides") or {}),
        endpoints={str(k): str(v) for k, v in (state.get("endpoints") or {}).items()},
        extra={k: v for k, v in state.items() if k not in ("stack", "overrides", "endpoints")},
    )


# --------------------------------------------------------------------------- AWS


def aws_target(
    stack_name: str,
    *,
    template: dict[str, Any] | None = None,
    base_dir: Path | None = None,
    session: boto3.Session | None = None,
) -> Target:
    """A deployed stack, read with the caller's AWS environment."""
    session = session or boto3.Session()
    if not session.region_name:
        raise TargetError("no AWS region configured: set AWS_REGION or a profile with a region")
    try:
        description = describe_stack(
            cloudformation=session.client("cloudformation"),
            lambda_client=session.client("lambda"),
            sqs=session.client("sqs"),
            stack_name=stack_name,
            template=template,
            base_dir=base_dir,
        )
    except NoCredentialsError as exc:
        raise TargetError(
            "no AWS credentials found: configure a profile or AWS_* variables"
        ) from exc
    except NoRegionError as exc:
        raise TargetError("no AWS region configured: set AWS_REGION") from exc
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if "does not exist" in message:
            raise TargetError(
                f"stack {stack_name} does not exist in {session.region_name}"
            ) from exc
        raise TargetError(f"cannot read stack {stack_name}: {message}") from exc
    except BotoCoreError as exc:
        raise TargetError(f"cannot reach AWS to read stack {stack_name}: {exc}") from exc
    return Target(
        kind="aws",
        description=description,
        region=str(session.region_name),
        session=session,
    )


def samconfig_stack_name(path: Path = SAMCONFIG) -> str | None:
    """The stack ``sam deploy`` uses without ``--config-env``, or None when none is configured.

    SAM reads ``[default.deploy.parameters]`` first, then ``[default.global.parameters]``; so does
    this. A samconfig.toml that cannot be read is an error (it was meant to configure something).
    """
    if not path.is_file():
        return None
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TargetError(f"cannot read {path}: {exc}") from exc
    default = config.get("default")
    if not isinstance(default, dict):
        return None
    for command in ("deploy", "global"):
        section = default.get(command)
        parameters = section.get("parameters") if isinstance(section, dict) else None
        name = parameters.get("stack_name") if isinstance(parameters, dict) else None
        if isinstance(name, str) and name.strip():
            return name.strip()
    return None


def resolve_target(
    stack_name: str | None,
    *,
    state_dir: Path = STATE_DIR,
    template: dict[str, Any] | None = None,
    base_dir: Path | None = None,
    samconfig: Path = SAMCONFIG,
) -> Target:
    """``--stack``/``NEWSFLOW_STACK``, else the local stack, else samconfig.toml's stack.

    A state file means the caller works locally: it is used (or reported as not running) even
    when samconfig.toml names a stack.
    """
    if stack_name:
        return aws_target(stack_name, template=template, base_dir=base_dir)
    configured = None if state_path(state_dir).is_file() else samconfig_stack_name(samconfig)
    if configured is None:
        return read_local_target(state_dir)
    try:
        return aws_target(configured, template=template, base_dir=base_dir)
    except TargetError as exc:
        raise TargetError(
            f"no local stack is running (start one with `newsflow local up`), and stack "
            f"{configured} from {samconfig} cannot be used: {exc}; or name one with --stack NAME"
        ) from exc
