"""The local stack: moto's server on 127.0.0.1 with the template created in it.

``LocalStack.start(template_path)`` starts moto's server in a process of its own (so that it
does not share an interpreter lock with the poller and the function workers) on a free loopback
port, and a second one for DynamoDB (the busiest service, moved there once the stack exists),
uploads each
local code folder of the template as a zip, translates the SAM template, creates it as a
CloudFormation stack in moto with the template's own parameter defaults and reads back outputs
and functions. No resource name is typed here: queues, bucket and table come from the stack.

moto's CloudFormation skips some resource types with a warning (alarms, bucket policies, Glue,
Athena) and still reports ``CREATE_COMPLETE``; ``skipped_resources`` lists what the translated
template declared but the stack does not hold.

For local runs the visibility timeout of every queue that feeds a function is shortened (default
1 s) so that a failed record is retried within seconds instead of minutes; the redrive policy,
and so the path to the dead-letter queue, is the template's.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from newsflow_cli import sam_template
from newsflow_cli.moto_process import MotoProcess
from newsflow_cli.stacks import FunctionSpec, StackDescription, describe_stack

DEFAULT_REGION = "us-east-1"
DEFAULT_STACK_NAME = "newsflow-local"
LOCAL_VISIBILITY_TIMEOUT = 1
ARTIFACTS_BUCKET = "newsflow-local-artifacts"
# moto accepts any credentials; these only keep boto3 from looking for real ones.
LOCAL_ACCESS_KEY = "testing"
LOCAL_SECRET_KEY = "testing"  # noqa: S105 - a placeholder moto accepts, not a secret

_CREATE_TIMEOUT_SECONDS = 60.0
# Where the deployer notes, in the translated template, what a false Condition leaves out.
_EXCLUDED_KEY = "NewsflowLocalExcludedByCondition"
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


class LocalStackError(Exception):
    """The local stack could not be started; the message says why in one line."""


def zip_directory(directory: Path) -> bytes:
    """Zip a code folder the way `sam package` does (contents at the archive root)."""
    if not directory.is_dir():
        raise LocalStackError(f"code folder {directory} named in the template does not exist")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            relative = path.relative_to(directory)
            if path.is_dir() or _SKIP_DIRS.intersection(relative.parts) or path.suffix == ".pyc":
                continue
            archive.write(path, relative.as_posix())
    return buffer.getvalue()


class LocalStack:
    """moto servers + the template's stack. Use as a context manager, or call ``stop()``.

    ``endpoint_url`` is the main server (CloudFormation, S3, SQS, Lambda...); ``endpoints``
    names the services served by a server of their own (DynamoDB, the busiest).
    """

    def __init__(
        self,
        *,
        server: MotoProcess | None,
        endpoint_url: str,
        region: str,
        template_path: Path,
        template: sam_template.TemplateDict,
        translated: sam_template.TemplateDict,
        description: StackDescription,
        service_servers: dict[str, MotoProcess] | None = None,
    ) -> None:
        self._server = server
        self._service_servers = dict(service_servers or {})
        self.endpoints = {name: srv.endpoint_url for name, srv in self._service_servers.items()}
        self.endpoint_url = endpoint_url
        self.region = region
        self.template_path = template_path
        self.template = template
        self.translated = translated
        self.description = description

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def start(
        cls,
        template_path: Path | str,
        *,
        stack_name: str = DEFAULT_STACK_NAME,
        region: str = DEFAULT_REGION,
        parameters: dict[str, str] | None = None,
        visibility_timeout: int = LOCAL_VISIBILITY_TIMEOUT,
    ) -> LocalStack:
        template_path = Path(template_path).resolve()
        template = sam_template.load_template(template_path)
        try:
            server, tables = MotoProcess.start_many(2)
        except (OSError, RuntimeError) as exc:
            raise LocalStackError(f"moto's server did not start: {exc}") from exc
        endpoint_url = server.endpoint_url
        try:
            session = local_session(region)
            translated = _deploy(
                session,
                endpoint_url,
                template_path,
                template,
                stack_name,
                parameters or {},
                region,
            )
            description = _describe(session, endpoint_url, stack_name, template, template_path)
            _shorten_visibility(session, endpoint_url, description.functions, visibility_timeout)
            _disable_moto_mappings(session, endpoint_url, description.functions)
            _move_tables(session, endpoint_url, tables.endpoint_url, description)
        except BaseException:
            server.stop()
            tables.stop()
            raise
        return cls(
            service_servers={"dynamodb": tables},
            server=server,
            endpoint_url=endpoint_url,
            region=region,
            template_path=template_path,
            template=template,
            translated=translated,
            description=description,
        )

    @property
    def moto_pid(self) -> int | None:
        """The process id of moto's main server (for its CPU time and memory)."""
        return self._server.pid if self._server is not None else None

    @property
    def moto_pids(self) -> dict[str, int]:
        """Every moto server's process id: ``moto`` (the main one), ``moto dynamodb``..."""
        pids = {"moto": self._server.pid} if self._server is not None else {}
        pids.update({f"moto {name}": srv.pid for name, srv in self._service_servers.items()})
        return pids

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        for srv in self._service_servers.values():
            srv.stop()
        self._service_servers.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ what it holds

    @property
    def stack_name(self) -> str:
        return self.description.stack_name

    @property
    def outputs(self) -> dict[str, str]:
        return self.description.outputs

    @property
    def functions(self) -> tuple[FunctionSpec, ...]:
        return self.description.functions

    @property
    def excluded_resources(self) -> set[str]:
        """Resources whose ``Condition`` is false with these parameters (not created, rightly)."""
        return set(self.translated.get("Metadata", {}).get(_EXCLUDED_KEY, []))

    @property
    def skipped_resources(self) -> dict[str, str]:
        """Logical id -> type of what the stack should hold but moto did not create."""
        created = self.description.resources
        excluded = self.excluded_resources
        return {
            logical_id: kind
            for logical_id, kind in sam_template.resource_types(self.translated)
            if logical_id not in created and logical_id not in excluded
        }

    def session(self) -> boto3.Session:
        return local_session(self.region)

    def client(self, service: str) -> Any:
        endpoint = self.endpoints.get(service, self.endpoint_url)
        return self.session().client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def local_session(region: str = DEFAULT_REGION) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=LOCAL_ACCESS_KEY,
        aws_secret_access_key=LOCAL_SECRET_KEY,
        region_name=region,
    )


def _client(session: boto3.Session, service: str, endpoint_url: str) -> Any:
    # No retries: moto either answers or the request is wrong; a retry only hides the error.
    config = Config(retries={"max_attempts": 1, "mode": "standard"})
    return session.client(service, endpoint_url=endpoint_url, config=config)  # type: ignore[call-overload]


def _deploy(
    session: boto3.Session,
    endpoint_url: str,
    template_path: Path,
    template: sam_template.TemplateDict,
    stack_name: str,
    parameters: dict[str, str],
    region: str,
) -> sam_template.TemplateDict:
    s3 = _client(session, "s3", endpoint_url)
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)

    def upload(location: sam_template.CodeLocation) -> tuple[str, str]:
        key = f"{location.logical_id}.zip"
        s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=key, Body=zip_directory(location.directory))
        return ARTIFACTS_BUCKET, key

    packaged = sam_template.with_uploaded_code(template, template_path.parent, upload)
    translated = sam_template.translate(packaged, region)
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": _account_id(session, endpoint_url),
        "AWS::Partition": "aws",
        "AWS::StackName": stack_name,
        "AWS::URLSuffix": "amazonaws.com",
    }
    values = sam_template.parameter_values(translated, parameters, pseudo)
    excluded = sam_template.Conditions(translated, values).excluded_resources(translated)
    translated = sam_template.resolve_conditions(translated, values)
    translated.setdefault("Metadata", {})[_EXCLUDED_KEY] = sorted(excluded)
    cloudformation = _client(session, "cloudformation", endpoint_url)
    try:
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(translated),
            Parameters=[
                {"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()
            ],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
    except (ClientError, BotoCoreError) as exc:
        raise LocalStackError(f"moto refused the stack: {exc}") from exc
    _wait_for_create(cloudformation, stack_name)
    return translated


def _account_id(session: boto3.Session, endpoint_url: str) -> str:
    return str(_client(session, "sts", endpoint_url).get_caller_identity()["Account"])


def _wait_for_create(cloudformation: Any, stack_name: str) -> None:
    deadline = time.monotonic() + _CREATE_TIMEOUT_SECONDS
    while True:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = str(stack["StackStatus"])
        if status == "CREATE_COMPLETE":
            return
        if not status.endswith("_IN_PROGRESS"):
            reasons = [
                f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
                for e in cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
                if e.get("ResourceStatus", "").endswith("FAILED")
            ]
            raise LocalStackError(f"stack {stack_name} ended {status}: {'; '.join(reasons)}")
        if time.monotonic() > deadline:
            raise LocalStackError(f"stack {stack_name} still {status} after 60 s")
        time.sleep(0.1)


def _describe(
    session: boto3.Session,
    endpoint_url: str,
    stack_name: str,
    template: sam_template.TemplateDict,
    template_path: Path,
) -> StackDescription:
    return describe_stack(
        cloudformation=_client(session, "cloudformation", endpoint_url),
        lambda_client=_client(session, "lambda", endpoint_url),
        sqs=_client(session, "sqs", endpoint_url),
        stack_name=stack_name,
        template=template,
        base_dir=template_path.parent,
    )


def _disable_moto_mappings(
    session: boto3.Session, endpoint_url: str, functions: tuple[FunctionSpec, ...]
) -> None:
    """moto would deliver each sent message to Docker (absent here), receiving it - and so
    counting a delivery towards the DLQ - on every send. The poller plays the mappings instead;
    the description keeps them as the template declared them.
    """
    lambda_client = _client(session, "lambda", endpoint_url)
    for spec in functions:
        for source in spec.event_sources:
            if source.mapping_uuid:
                lambda_client.update_event_source_mapping(UUID=source.mapping_uuid, Enabled=False)


def _shorten_visibility(
    session: boto3.Session,
    endpoint_url: str,
    functions: tuple[FunctionSpec, ...],
    seconds: int,
) -> None:
    sqs = _client(session, "sqs", endpoint_url)
    for spec in functions:
        for source in spec.event_sources:
            sqs.set_queue_attributes(
                QueueUrl=source.queue_url, Attributes={"VisibilityTimeout": str(seconds)}
            )


def _move_tables(
    session: boto3.Session, endpoint_url: str, tables_url: str, description: StackDescription
) -> None:
    """Re-create the stack's DynamoDB tables in the server of their own, then delete them from
    the main one (so that a client pointed at the wrong server fails instead of writing there).

    DynamoDB takes most of moto's time in a run; in a process of its own it gets a core of its
    own. The copy has the same name, keys, indexes and billing mode; moto ignores time to live
    in either place (the code checks expiry itself).
    """
    main = _client(session, "dynamodb", endpoint_url)
    tables = _client(session, "dynamodb", tables_url)
    for kind, name in description.resources.values():
        if kind != "AWS::DynamoDB::Table" or not name:
            continue
        table = main.describe_table(TableName=name)["Table"]
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": table["KeySchema"],
            "AttributeDefinitions": table["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        indexes = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in table.get("GlobalSecondaryIndexes", [])
        ]
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        local_indexes = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in table.get("LocalSecondaryIndexes", [])
        ]
        if local_indexes:
            request["LocalSecondaryIndexes"] = local_indexes
        tables.create_table(**request)
        main.delete_table(TableName=name)
