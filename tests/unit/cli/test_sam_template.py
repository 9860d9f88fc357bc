"""Reading SAM templates: short tags, local code folders, packaging and conditions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from newsflow_cli.sam_template import (
    TemplateError,
    function_code_dir,
    function_layer_dirs,
    load_template,
    local_code_locations,
    parameter_values,
    resolve_conditions,
    with_uploaded_code,
)

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Backend:
    Type: String
    Default: local
Conditions:
  UseRemote: !Equals [!Ref Backend, remote]
Globals:
  Function:
    CodeUri: functions/common/
    Layers:
      - !Ref SharedLayer
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: shared/
  Queue:
    Type: AWS::SQS::Queue
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker/
      Handler: app.lambda_handler
      Environment:
        Variables:
          QUEUE_URL: !Ref Queue
          QUEUE_ARN: !GetAtt Queue.Arn
          NAME: !Sub "${AWS::StackName}-worker"
  PlainFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.lambda_handler
      Policies:
        - SQSPollerPolicy: {QueueName: !GetAtt Queue.QueueName}
        - !If [UseRemote, RemoteAccessPolicy, !Ref AWS::NoValue]
"""


@pytest.fixture
def template_file(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    return path


def test_short_tags_become_intrinsic_functions(template_file: Path) -> None:
    # GIVEN a template written with !Ref, !GetAtt and !Sub
    # WHEN it is loaded
    template = load_template(template_file)
    # THEN each tag is the long-form intrinsic CloudFormation expects
    variables = template["Resources"]["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables == {
        "QUEUE_URL": {"Ref": "Queue"},
        "QUEUE_ARN": {"Fn::GetAtt": ["Queue", "Arn"]},
        "NAME": {"Fn::Sub": "${AWS::StackName}-worker"},
    }


def test_a_file_without_resources_is_refused(tmp_path: Path) -> None:
    # GIVEN a YAML file that is not a template
    path = tmp_path / "notes.yaml"
    path.write_text("title: shopping list\n", encoding="utf-8")
    # WHEN / THEN loading it names the problem
    with pytest.raises(TemplateError, match="no Resources"):
        load_template(path)


def test_functions_without_code_uri_use_the_global_one(template_file: Path) -> None:
    # GIVEN a function with its own CodeUri and one relying on Globals
    template = load_template(template_file)
    base = template_file.parent
    # WHEN their code folders are resolved
    worker = function_code_dir(template, base, "WorkerFunction")
    plain = function_code_dir(template, base, "PlainFunction")
    # THEN each gets the folder the template names, relative to the template
    assert worker == (base / "functions/worker").resolve()
    assert plain == (base / "functions/common").resolve()


def test_global_layers_are_found_as_folders(template_file: Path) -> None:
    # GIVEN a layer referenced from Globals
    template = load_template(template_file)
    # WHEN a function's layer folders are resolved
    layers = function_layer_dirs(template, template_file.parent, "WorkerFunction")
    # THEN the layer's ContentUri folder is there
    assert layers == [(template_file.parent / "shared").resolve()]


def test_every_local_folder_is_replaced_by_its_upload(template_file: Path) -> None:
    # GIVEN a template with two function folders and a layer folder
    template = load_template(template_file)
    uploaded: list[str] = []

    def upload(location: Any) -> tuple[str, str]:
        uploaded.append(location.logical_id)
        return "artifacts", f"{location.logical_id}.zip"

    # WHEN it is packaged
    packaged = with_uploaded_code(template, template_file.parent, upload)
    # THEN each location is an s3:// URI and nothing local is left
    resources = packaged["Resources"]
    assert resources["SharedLayer"]["Properties"]["ContentUri"] == "s3://artifacts/SharedLayer.zip"
    assert resources["WorkerFunction"]["Properties"]["CodeUri"] == (
        "s3://artifacts/WorkerFunction.zip"
    )
    assert resources["PlainFunction"]["Properties"]["CodeUri"] == (
        "s3://artifacts/PlainFunction.zip"
    )
    assert "CodeUri" not in packaged["Globals"]["Function"]
    assert sorted(uploaded) == ["PlainFunction", "SharedLayer", "WorkerFunction"]
    assert local_code_locations(packaged, template_file.parent) == []


def test_a_false_condition_drops_the_no_value_branch(template_file: Path) -> None:
    # GIVEN the default parameters (Backend=local, so UseRemote is false)
    template = load_template(template_file)
    values = parameter_values(template, {}, {"AWS::Region": "us-east-1"})
    # WHEN conditions are resolved
    resolved = resolve_conditions(template, values)
    # THEN the policy list holds only the unconditional policy
    policies = resolved["Resources"]["PlainFunction"]["Properties"]["Policies"]
    assert policies == [{"SQSPollerPolicy": {"QueueName": {"Fn::GetAtt": ["Queue", "QueueName"]}}}]


def test_a_true_condition_keeps_its_branch(template_file: Path) -> None:
    # GIVEN a parameter override that makes UseRemote true
    template = load_template(template_file)
    values = parameter_values(template, {"Backend": "remote"}, {})
    # WHEN conditions are resolved
    resolved = resolve_conditions(template, values)
    # THEN the conditional policy is in place of the Fn::If
    policies = resolved["Resources"]["PlainFunction"]["Properties"]["Policies"]
    assert policies[-1] == "RemoteAccessPolicy"
