"""Build the function and layer artifacts and deploy template.yaml into LocalStack.

    python infra/deploy.py              (what `make deploy` runs)
    python infra/deploy.py --env staging --parameter DatabaseUrl=... [--parameter Name=Value ...]

Any environment other than ``local`` is refused, before anything is built or deployed,
while a parameter, a template default that would apply, a literal function environment
value or a ``PHOTOSTACK_*`` variable of this shell carries a value the repository ships in
public (the old default secrets, the local database password): see :func:`refusals`.

What `sam build && sam deploy` does on AWS, done here without Docker or the SAM CLI:
1. the layer: ``layers/core/python`` plus ``requirements/layer.txt`` installed for the
   Lambda platform (manylinux x86_64, CPython 3.13) under ``python/``; cached by the
   hash of its inputs;
2. each function's folder zipped as it is;
3. artifacts uploaded to an artifacts bucket under content-hash keys, so a code change
   is a new key and CloudFormation updates exactly the functions that changed;
4. template.yaml with every local ``CodeUri``/``ContentUri`` rewritten to its ``s3://``
   artifact, created or updated as a CloudFormation stack (LocalStack applies the SAM
   transform itself);
5. the stack outputs written to ``.state/stack-outputs.json`` with LocalStack's path-form
   API URLs, and each API registered in Consul (when an agent is configured) so that
   anything outside the functions finds them the way the functions find the sidecar.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))
from photostack.config import LOCAL_ENV, carries_local_value, local_database_url  # noqa: E402 (a folder)

BUILD = ROOT / ".build"
STATE = ROOT / ".state"
ENDPOINT = os.environ.get("PHOTOSTACK_AWS_ENDPOINT", "http://127.0.0.1:4566")
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
STACK = os.environ.get("PHOTOSTACK_STACK", "photostack")
ARTIFACTS_BUCKET = os.environ.get("PHOTOSTACK_ARTIFACTS_BUCKET", "photostack-artifacts")
CONSUL = os.environ.get("PHOTOSTACK_CONSUL_ADDR", "127.0.0.1:8500")
HOT_RELOAD_BUCKET = "hot-reload"  # LocalStack's BUCKET_MARKER_LOCAL: the key is a host folder, run in place
SKIP_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".chalice"}
# Parameters for the local stack; on AWS they come from `sam deploy --parameter-overrides`.
CONSUL_TOKENS = ROOT / ".state" / "consul" / "tokens"  # infra/consul/acl.py writes them (make up)


def consul_token(name: str) -> str:
    path = CONSUL_TOKENS / f"{name}.token"
    return path.read_text().strip() if path.exists() else ""


LOCAL_PARAMETERS = {
    "ConsulAddr": CONSUL, "DeploymentEnv": "local",
    # Each function's Consul token (its Connect identity towards the sidecar).
    **{f"ConsulToken{fn.title()}": consul_token(f"photostack-{fn}")
       for fn in ("photos", "transactions", "upload", "faces")},
    # Not a template default: the template has none for what holds a password.
    # PgBouncer's port (transaction pooling, the local RDS Proxy), not PostgreSQL's.
    "DatabaseUrl": os.environ.get("PHOTOSTACK_DATABASE_URL", local_database_url()),
}
# The parameters this run deploys with (main() sets them from the command line).
DEPLOY_PARAMETERS: dict[str, str] = dict(LOCAL_PARAMETERS)
HOT_RELOAD = [False]  # whether this run deploys for hot reload (--hot, set by parse_args)
ARTIFACT_HASHES: dict[str, str] = {}  # s3:// artifact -> the sha256 of its bytes (package() fills it)

sys.path.insert(0, str(ROOT))
from infra import web_publish  # noqa: E402 (run as a script, the repository is not on the path)


# --- template (CloudFormation short-form tags kept as they are) ---------------------
class Tagged:
    def __init__(self, tag: str, value: Any) -> None:
        self.tag, self.value = tag, value


class CfnLoader(yaml.SafeLoader):
    pass


class CfnDumper(yaml.SafeDumper):
    pass


def _construct_tagged(loader: yaml.Loader, suffix: str, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return Tagged("!" + suffix, value)


def _represent_tagged(dumper: yaml.SafeDumper, data: Tagged) -> yaml.Node:
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value)
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    return dumper.represent_scalar(data.tag, data.value)


CfnLoader.add_multi_constructor("!", _construct_tagged)
CfnDumper.add_representer(Tagged, _represent_tagged)


def load_template(path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=CfnLoader)  # a SafeLoader subclass


# --- artifacts -------------------------------------------------------------------------
def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not SKIP_PARTS.intersection(p.relative_to(folder).parts)
                  and p.suffix != ".pyc")


def _zip(entries: list[tuple[Path, str]]) -> Path:
    """A deterministic zip: same inputs, same bytes, same content hash.

    Cached under .build/zips by the entries' names, sizes and modification times, so a
    deploy with nothing changed does not re-compress the layers (tens of MB) every time;
    its content hash is cached beside it (``.sha256``), so such a deploy does not read them either.
    """
    fingerprint = hashlib.sha256()
    for path, name in entries:
        stat = path.stat()
        fingerprint.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_mode}\n".encode())
    cached = BUILD / "zips" / f"{fingerprint.hexdigest()[:24]}.zip"
    if cached.exists() and cached.with_suffix(".sha256").exists():
        return cached
    blob = _compress(entries)
    cached.parent.mkdir(parents=True, exist_ok=True)
    for suffix, content in ((".tmp", blob), (".sha256.tmp", hashlib.sha256(blob).hexdigest().encode())):
        cached.with_suffix(suffix).write_bytes(content)
    cached.with_suffix(".sha256.tmp").rename(cached.with_suffix(".sha256"))
    cached.with_suffix(".tmp").rename(cached)
    return cached


def content_hash(artifact: Path) -> str:
    return artifact.with_suffix(".sha256").read_text().strip()


def _compress(entries: list[tuple[Path, str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in entries:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def build_function(code_uri: str) -> Path:
    folder = ROOT / code_uri
    return _zip([(p, str(p.relative_to(folder))) for p in _files(folder)])


def build_layer(content_uri: str, metadata: dict[str, Any] | None = None) -> Path:
    source = ROOT / content_uri
    requirements = source / "requirements.txt"
    key = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    deps = BUILD / f"layer-deps-{key}"
    if not deps.exists():
        install_layer_requirements(requirements, deps)
    entries = [(p, "python/" + str(p.relative_to(deps))) for p in _files(deps)]
    entries += [(p, "python/" + str(p.relative_to(source))) for p in _files(source)
                if p.name != "requirements.txt"]
    return _zip(entries + bundled_entries(metadata or {}))


def bundled_entries(metadata: dict[str, Any]) -> list[tuple[Path, str]]:
    """What a layer's Metadata asks to add under python/ besides its own folder: ``BundleModels``
    (a folder name for the face models, fetched into a cache outside the repository by
    infra/models/fetch.sh: model files are never committed) and ``BundleOcrModels`` (the same for
    the bib-reading OCR models, infra/models/fetch_ocr.sh)."""
    entries: list[tuple[Path, str]] = []
    for key, script in (("BundleModels", "fetch.sh"), ("BundleOcrModels", "fetch_ocr.sh")):
        models = metadata.get(key)
        if not models:
            continue
        fetched = subprocess.run(["bash", str(ROOT / "infra" / "models" / script)], check=True,
                                 capture_output=True, text=True).stdout.strip().splitlines()[-1]
        entries += [(p, f"python/{models}/{p.name}") for p in sorted(Path(fetched).glob("*.onnx"))]
    return entries


def install_layer_requirements(requirements: Path, target: Path) -> None:
    """pip-install for the Lambda platform; lines marked ``# no-deps`` without their dependencies."""
    print(f"  installing layer dependencies for python3.13 manylinux x86_64 into {target.name}")
    lines = [line.strip() for line in requirements.read_text().splitlines()]
    specs = [line for line in lines if line and not line.startswith("#")]
    plain = [line.split("#")[0].strip() for line in specs if "# no-deps" not in line]
    no_deps = [line.split("#")[0].strip() for line in specs if "# no-deps" in line]
    tmp = target.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--target", str(tmp),
           "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
           "--implementation", "cp", "--python-version", "3.13", "--only-binary=:all:"]
    subprocess.run([*pip, *plain], check=True)
    if no_deps:
        subprocess.run([*pip, "--no-deps", *no_deps], check=True)
    for junk in ("bin", "__pycache__"):
        shutil.rmtree(tmp / junk, ignore_errors=True)
    tmp.rename(target)


def package(template: dict[str, Any], s3: Any, hot: bool = False) -> dict[str, Any]:
    """Every local CodeUri/ContentUri rewritten to its artifact in S3, or, with ``hot``, to its folder."""
    if hot:
        return package_hot(template)
    try:
        s3.head_bucket(Bucket=ARTIFACTS_BUCKET)
    except botocore.exceptions.ClientError:
        s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            field, artifact = "CodeUri", build_function(props["CodeUri"])
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            field, artifact = "ContentUri", build_layer(props["ContentUri"], resource.get("Metadata"))
        else:
            continue
        key = f"{name}/{content_hash(artifact)[:20]}.zip"
        try:
            s3.head_object(Bucket=ARTIFACTS_BUCKET, Key=key)
        except botocore.exceptions.ClientError:
            s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=key, Body=artifact.read_bytes())
        print(f"  {name:<22} {artifact.stat().st_size / 1e6:6.1f} MB  s3://{ARTIFACTS_BUCKET}/{key}")
        props[field] = f"s3://{ARTIFACTS_BUCKET}/{key}"
        ARTIFACT_HASHES[props[field]] = content_hash(artifact)
    return template


def package_hot(template: dict[str, Any]) -> dict[str, Any]:
    """Functions and layers that run their folders in place: LocalStack's hot reload.

    A code location in LocalStack's ``hot-reload`` bucket whose key is an absolute host path is
    used as it is, for layers too. A function's folder is its ``CodeUri``; a layer's is what
    ``photostack-sam local invoke`` runs (``.build/sam-local/<Layer>-<hash>/python``: links to the
    layer's source, its installed dependencies and bundled models). The process executor watches
    these folders and restarts a function's worker 500 ms after the last change
    (photostack_localstack_executor/hot_reload.py).
    """
    from infra.sam.local_invoke import layer_path  # it imports this module

    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            field, folder = "CodeUri", (ROOT / props["CodeUri"]).resolve()
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            field, folder = "ContentUri", layer_path(template, name, base=ROOT).parent
        else:
            continue
        print(f"  {name:<22} hot reload from {folder}")
        props[field] = {"Bucket": HOT_RELOAD_BUCKET, "Key": str(folder)}
    return template


# --- stack ---------------------------------------------------------------------------------
def stack_args(body: str) -> dict[str, Any]:
    parameters = [{"ParameterKey": k, "ParameterValue": v} for k, v in DEPLOY_PARAMETERS.items()]
    return dict(StackName=STACK, TemplateBody=body, Parameters=parameters,
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])


def stack_status(cfn: Any) -> str | None:
    try:
        return str(cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"])
    except botocore.exceptions.ClientError:
        return None


def settled_status(cfn: Any, timeout_s: float = 120) -> str | None:
    """The stack's status once no operation is in progress (a failed deploy may leave a rollback running)."""
    deadline = time.monotonic() + timeout_s
    while (status := stack_status(cfn)) and status.endswith("_IN_PROGRESS") and time.monotonic() < deadline:
        time.sleep(0.25)
    return status


def deploy_stack(body: str, cfn: Any) -> str:
    status = settled_status(cfn)
    if status in ("ROLLBACK_COMPLETE", "CREATE_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"):
        print(f"  the stack is {status}; deleting it and creating it again")
        return recreate(body, cfn)
    if status is None:
        cfn.create_stack(**stack_args(body))
        return wait_stack(cfn, "create")
    try:
        cfn.update_stack(**stack_args(body))
    except botocore.exceptions.ClientError as exc:
        if "No updates are to be performed" in str(exc):
            return "unchanged"
        raise
    return wait_stack(cfn, "update")


def wait_stack(cfn: Any, action: str) -> str:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = stack_status(cfn) or "GONE"
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return action
        if status.endswith("FAILED") or "ROLLBACK" in status:
            events = cfn.describe_stack_events(StackName=STACK)["StackEvents"]
            reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
                       if "FAILED" in e.get("ResourceStatus", "")]
            raise SystemExit(f"stack {action} failed ({status}):\n  " + "\n  ".join(reasons[:10]))
        time.sleep(0.25)  # LocalStack applies a code-only update in a few seconds
    raise SystemExit(f"stack {action} did not finish within 300 s")


def missing_outputs(cfn: Any, template: dict[str, Any]) -> set[str]:
    present = {o["OutputKey"] for o in cfn.describe_stacks(StackName=STACK)["Stacks"][0].get("Outputs", [])}
    return set(template["Outputs"]) - present


def recreate(body: str, cfn: Any) -> str:
    """Delete a stack that cannot be updated (a failed create, a failed rollback) and create it again.

    LocalStack is not restarted for it (this deploy once did, which dropped what S3 and SQS held in
    memory). LocalStack 2026.3.0 fails to delete the resources a failed create never made, a few at
    a time, and may still hold the name for a moment after the stack is gone: the delete and the
    create are tried again for up to two minutes; then the deploy stops and says how to start afresh.
    """
    deadline = time.monotonic() + 120
    status: str | None = None
    while time.monotonic() < deadline:
        cfn.delete_stack(StackName=STACK)
        time.sleep(0.5)  # LocalStack reports the delete's outcome a moment later
        if (status := settled_status(cfn)) in (None, "DELETE_COMPLETE"):
            try:
                cfn.create_stack(**stack_args(body))
            except cfn.exceptions.AlreadyExistsException:
                continue
            return wait_stack(cfn, "re-create")
    raise SystemExit(f"the stack could not be deleted ({status}). See .state/log/localstack.log; to "
                     "start afresh: infra/services.sh restart localstack && make deploy")


# --- code-only deploys: the functions' code directly, as `sam sync --code` does on AWS -----
def _without_function_code(body: str) -> str:
    template = yaml.load(body, Loader=CfnLoader)  # a SafeLoader subclass
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.get("Properties", {}).pop("CodeUri", None)
    return yaml.dump(template, Dumper=CfnDumper, sort_keys=True)


def code_only_change(cfn: Any, body: str) -> bool:
    """Whether the deployed stack differs from ``body`` in its functions' code at most.

    Then CloudFormation has nothing to do but swap code, which LocalStack's engine takes
    several seconds for (it re-reads the whole template); :func:`sync_function_code` does it
    in a fraction of a second. The stack's recorded template keeps the older code locations
    (what ``sam sync --code`` leaves on AWS too); every deploy ends with that sync, so the
    functions always run the code of the tree that was deployed last.
    """
    if stack_status(cfn) not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
        return False
    deployed = cfn.get_template(StackName=STACK, TemplateStage="Original")["TemplateBody"]
    return isinstance(deployed, str) and _without_function_code(deployed) == _without_function_code(body)


def function_names(cfn: Any) -> dict[str, str]:
    resources = cfn.describe_stack_resources(StackName=STACK)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources
            if r["ResourceType"] == "AWS::Lambda::Function"}


def lifecycle_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A bucket's CloudFormation lifecycle rules in the S3 API's shape (the parts the template uses)."""
    return [{"ID": r["Id"], "Status": r["Status"], "Filter": {"Prefix": r.get("Prefix", "")},
             **({"AbortIncompleteMultipartUpload": r["AbortIncompleteMultipartUpload"]}
                if "AbortIncompleteMultipartUpload" in r else {})} for r in rules]


def apply_lifecycle_rules(template: dict[str, Any], s3: Any, cfn: Any) -> None:
    """LocalStack's CloudFormation leaves out a bucket's LifecycleConfiguration (its
    AWS::S3::Bucket provider neither puts it on create nor updates a bucket): put the
    template's rules with the S3 API, so the local buckets carry what AWS applies."""
    buckets = {r["LogicalResourceId"]: r["PhysicalResourceId"]
               for r in cfn.describe_stack_resources(StackName=STACK)["StackResources"]
               if r["ResourceType"] == "AWS::S3::Bucket"}
    for logical_id, resource in template["Resources"].items():
        rules = resource.get("Properties", {}).get("LifecycleConfiguration", {}).get("Rules")
        if resource["Type"] == "AWS::S3::Bucket" and rules and logical_id in buckets:
            s3.put_bucket_lifecycle_configuration(Bucket=buckets[logical_id],
                                                  LifecycleConfiguration={"Rules": lifecycle_rules(rules)})


def sync_function_code(template: dict[str, Any], lam: Any, names: dict[str, str]) -> list[str]:
    """Point each function whose code differs from its packaged artifact at that artifact."""
    updated = []
    for logical_id, resource in template["Resources"].items():
        uri = resource.get("Properties", {}).get("CodeUri")
        if (resource["Type"] != "AWS::Serverless::Function" or not isinstance(uri, str)
                or uri not in ARTIFACT_HASHES or logical_id not in names):
            continue  # not a function, hot reload (a folder), or not deployed
        wanted = base64.b64encode(bytes.fromhex(ARTIFACT_HASHES[uri])).decode()
        if lam.get_function_configuration(FunctionName=names[logical_id])["CodeSha256"] == wanted:
            continue
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        lam.update_function_code(FunctionName=names[logical_id], S3Bucket=bucket, S3Key=key)
        updated.append(logical_id)
    return updated


def wait_functions_active(lam: Any, template: dict[str, Any]) -> None:
    names = [r["Properties"]["FunctionName"] for r in template["Resources"].values()
             if r["Type"] == "AWS::Serverless::Function" and "FunctionName" in r.get("Properties", {})]
    for name in names:
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
        lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})


def local_outputs(cfn: Any) -> dict[str, str]:
    raw = {o["OutputKey"]: o["OutputValue"]
           for o in cfn.describe_stacks(StackName=STACK)["Stacks"][0].get("Outputs", [])}
    outputs = dict(raw)
    # The execute-api host names do not resolve without LocalStack's DNS; the path form does.
    for key, value in raw.items():
        if key.endswith("ApiId"):
            outputs[key[: -len("Id")] + "Url"] = f"{ENDPOINT}/restapis/{value}/Prod/_user_request_"
    outputs["Endpoint"] = ENDPOINT
    return outputs


def register_in_consul(outputs: dict[str, str]) -> None:
    if not CONSUL:
        return
    import consul  # py-consul

    host, _, port = CONSUL.partition(":")
    # Consul runs with ACLs: the deploy token may register exactly these three APIs.
    agent = consul.Consul(host=host, port=int(port or 8500), token=consul_token("photostack-deploy") or None)
    for key, url in outputs.items():
        if not (key.endswith("ApiUrl") and key != "ProbeApiUrl"):
            continue
        service = "photostack-" + key[: -len("ApiUrl")].lower() + "-api"
        address = url.split("://", 1)[1].split("/", 1)[0]
        api_host, _, api_port = address.partition(":")
        agent.agent.service.register(
            service, service_id=service, address=api_host, port=int(api_port or 80),
            tags=["photostack", "api"], meta={"base_url": url},
            check=consul.Check.http(url + "/health", interval="10s", timeout="3s"),
        )


# --- refusing known local values outside local --------------------------------------------
def _literals(value: Any) -> list[str]:
    """The plain strings in a template value (intrinsics such as !Ref are not literals)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _literals(v)]
    if isinstance(value, list):
        return [s for v in value for s in _literals(v)]
    return []


def refusals(env: str, parameters: dict[str, str], template: dict[str, Any],
             environ: dict[str, str]) -> list[str]:
    """Why a deploy to ``env`` must not go ahead: every place that carries a known local value."""
    if env == LOCAL_ENV:
        return []
    found = [f"parameter {name}" for name, value in sorted(parameters.items()) if carries_local_value(value)]
    for name, spec in sorted(template.get("Parameters", {}).items()):
        default = spec.get("Default")
        if name not in parameters and isinstance(default, str) and carries_local_value(default):
            found.append(f"parameter {name} (its template default; pass --parameter {name}=...)")
    environments = {"Globals": template.get("Globals", {}).get("Function", {}).get("Environment", {})}
    environments |= {name: r.get("Properties", {}).get("Environment", {})
                     for name, r in template.get("Resources", {}).items()}
    for owner, environment in sorted(environments.items()):
        for var, value in sorted((environment.get("Variables") or {}).items()):
            if any(carries_local_value(s) for s in _literals(value)):
                found.append(f"{owner} environment variable {var}")
    found += [f"environment variable {name} of this shell" for name, value in sorted(environ.items())
              if name.startswith("PHOTOSTACK_") and carries_local_value(value)]
    return found


def parse_args(argv: list[str] | None = None) -> tuple[str, dict[str, str]]:
    """``(env, parameters)``: the local stack's parameters for ``local``, else exactly those given."""
    parser = argparse.ArgumentParser(description="build and deploy template.yaml")
    parser.add_argument("--env", default=LOCAL_ENV,
                        help="DeploymentEnv: local (default), staging, production")
    parser.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                        help="a template parameter (repeatable)")
    parser.add_argument("--hot", action="store_true", default=os.environ.get("PHOTOSTACK_HOT_RELOAD") == "1",
                        help="run functions and layers from their folders, reloaded on save (make dev; "
                             "PHOTOSTACK_HOT_RELOAD=1)")
    args = parser.parse_args(argv)
    HOT_RELOAD[0] = args.hot
    given: dict[str, str] = {}
    for item in args.parameter:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--parameter takes NAME=VALUE, got {item!r}")
        given[name] = value
    base = dict(LOCAL_PARAMETERS) if args.env == LOCAL_ENV else {}
    return args.env, {**base, **given, "DeploymentEnv": args.env}


def main(argv: list[str] | None = None) -> None:
    env, parameters = parse_args(argv)
    refused = refusals(env, parameters, load_template(), dict(os.environ))
    if refused:
        raise SystemExit(f"refusing to deploy DeploymentEnv={env!r}: these carry a value known from the "
                         "local stack (public, so not a secret):\n  " + "\n  ".join(refused))
    DEPLOY_PARAMETERS.clear()
    DEPLOY_PARAMETERS.update(parameters)
    started = time.monotonic()
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name=REGION)
    s3 = session.client("s3", endpoint_url=ENDPOINT)
    cfn = session.client("cloudformation", endpoint_url=ENDPOINT)
    lam = session.client("lambda", endpoint_url=ENDPOINT)
    print(f"deploying stack {STACK!r} to {ENDPOINT}")
    if HOT_RELOAD[0] and env != LOCAL_ENV:
        raise SystemExit("--hot runs the local folders in place: only for --env local")
    template = package(load_template(), s3, hot=HOT_RELOAD[0])
    body = yaml.dump(template, Dumper=CfnDumper, sort_keys=False, width=200)
    action = "code" if not HOT_RELOAD[0] and code_only_change(cfn, body) else deploy_stack(body, cfn)
    if action == "update" and (missing := missing_outputs(cfn, template)):
        # The executor plugin's apigateway_updates module makes route changes apply in place;
        # this would be another update LocalStack cannot apply. Restarting LocalStack here (as
        # this deploy once did) would silently drop every stored object: say so instead.
        raise SystemExit(f"LocalStack applied the update only in part (missing outputs: "
                         f"{', '.join(sorted(missing))}). See .state/log/localstack.log; to start "
                         "the stack afresh: infra/services.sh restart localstack && make deploy")
    updated = sync_function_code(template, lam, function_names(cfn))
    if action == "code":
        action = f"code of {', '.join(updated)} updated" if updated else "unchanged"
    wait_functions_active(lam, template)
    apply_lifecycle_rules(template, s3, cfn)
    outputs = local_outputs(cfn)
    # The web app's files and its config.json (the API URLs above) into the web bucket.
    outputs["WebUrl"] = web_publish.publish(s3, outputs["WebBucketName"], outputs, endpoint=ENDPOINT,
                                            simulated_payments=env == LOCAL_ENV)
    STATE.mkdir(exist_ok=True)
    (STATE / "stack-outputs.json").write_text(json.dumps(outputs, indent=2))
    try:
        register_in_consul(outputs)
    except Exception as exc:  # Consul is optional for the stack itself
        print(f"  (not registered in Consul: {exc})")
    print(f"stack {action} in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
