"""infra/deploy.py: what `make dev` deploys (hot-reload folders), and when a deploy is code only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import deploy
from infra.sam import local_invoke

pytestmark = pytest.mark.unit

TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Lib:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layers/lib/python}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: CODE
      Handler: app.handler
      Layers: [!Ref Lib]
      Events:
        Get: {Type: Api, Properties: {Path: PATH, Method: GET}}
"""


def body(code: str = "s3://artifacts/Fn/a.zip", path: str = "/a") -> str:
    return TEMPLATE.replace("CODE", code).replace("PATH", path)


def test_make_dev_deploys_functions_and_layers_as_hot_reload_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "functions" / "fn").mkdir(parents=True)
    (tmp_path / "layers" / "lib" / "python" / "lib").mkdir(parents=True)
    (tmp_path / "layers" / "lib" / "python" / "lib" / "__init__.py").write_text("X = 1\n")
    monkeypatch.setattr(deploy, "ROOT", tmp_path)
    monkeypatch.setattr(local_invoke, "LAYERS_DIR", tmp_path / ".build" / "sam-local")
    template: dict[str, Any] = yaml.load(body(code="functions/fn"), Loader=deploy.CfnLoader)

    deploy.package_hot(template)

    code = template["Resources"]["Fn"]["Properties"]["CodeUri"]
    assert code == {"Bucket": "hot-reload", "Key": str(tmp_path / "functions" / "fn")}
    content = template["Resources"]["Lib"]["Properties"]["ContentUri"]
    assert content["Bucket"] == "hot-reload" and Path(content["Key"]).is_absolute()
    # The layer folder runs the sources themselves: an edit there is an edit of the deployed layer.
    linked = Path(content["Key"]) / "python" / "lib"
    assert linked.resolve() == (tmp_path / "layers" / "lib" / "python" / "lib").resolve()


def test_a_deploy_is_code_only_when_only_the_functions_code_differs() -> None:
    strip = deploy._without_function_code
    assert strip(body()) == strip(body(code="s3://artifacts/Fn/b.zip"))
    assert strip(body()) != strip(body(path="/b"))  # a route: CloudFormation's job
    layer_changed = body().replace("layers/lib/python", "s3://artifacts/Lib/b.zip")
    assert strip(body()) != strip(layer_changed)  # a layer: a new layer version, CloudFormation's job


def test_hot_reload_is_asked_for_by_flag_or_by_make_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHOTOSTACK_HOT_RELOAD", raising=False)
    deploy.parse_args(["--hot"])
    assert deploy.HOT_RELOAD[0]
    deploy.parse_args([])
    assert not deploy.HOT_RELOAD[0]
    monkeypatch.setenv("PHOTOSTACK_HOT_RELOAD", "1")  # what `make dev` / `HOT=1` set
    deploy.parse_args([])
    assert deploy.HOT_RELOAD[0]
    monkeypatch.setenv("PHOTOSTACK_HOT_RELOAD", "")
    deploy.parse_args([])
    assert not deploy.HOT_RELOAD[0]
