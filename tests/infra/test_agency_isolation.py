"""Agency isolation: each agency writes only ``inbox/<own id>/`` and reads only ``outbox/<own id>/``.

Two witnesses, because neither alone covers everything:

- **moto with IAM enforcement** (a ``moto.server`` process started with
  ``INITIAL_NO_AUTH_ACTION_COUNT``): real IAM users with the generated concrete policies, real
  signed S3 requests; moto checks each request's action and resource against the caller's
  identity policies, explicit denies first. It ignores conditions and policy variables, so the
  ``s3:prefix`` restriction on listing and the bucket policy cannot be proved there;
- **the policy model** (:mod:`tests.infra.iam_eval`): the production documents (the tag-based
  agency policy and the bucket policy, as deployed) evaluated with conditions and variables, for
  the same cases plus what moto cannot decide.

Every case states the AWS answer; a case moto cannot decide is marked and pinned separately in
:func:`test_what_moto_does_not_enforce`, so a moto that starts enforcing it is noticed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import boto3
import pytest
import urllib3
import yaml
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from nianbao.errors import ConfigError
from nianbao.intake import access
from nianbao.intake.keys import InvalidKey, notice_keys, parse_key, upload_key
from nianbao.intake.local_s3 import free_port, wait_ready
from nianbao.intake.store import S3Store
from tests.infra.iam_eval import Policy, Request, is_allowed

ROOT = Path(__file__).resolve().parents[2]
POLICY_DIR = ROOT / "infra" / "aws" / "policies"
TEMPLATE = ROOT / "infra" / "aws" / "template.yaml"

BUCKET = "nianbao"
ACCOUNT = "123456789012"
"""moto's default account, so the bucket policy's account condition holds for its users."""
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
REGION = "us-east-1"
BODY = b"%PDF-1.4 isolation test\n"

SEEDED = (
    "inbox/agency-a/2025/seed.pdf",
    "inbox/agency-b/2025/report.pdf",
    "inbox/agency-ab/2025/report.pdf",
    "outbox/agency-a/2025/s-a.json",
    "outbox/agency-b/2025/s-b.json",
    "outbox/agency-ab/2025/s-ab.json",
    "registry/agencies.csv",
    "registry/old.csv",
)
"""Objects present before any case, so a 403 is told apart from a 404."""

Principal = Literal["agency-a", "agency-b", "pipeline", "operator"]
Op = Literal["put", "get", "head", "delete", "acl", "list", "mpu"]


@dataclass(frozen=True)
class Case:
    """One request and AWS's answer to it."""

    who: Principal
    op: Op
    arg: str | None
    """The object key, or for ``list`` the prefix (``None``: list without a prefix)."""
    allowed: bool
    moto: bool = True
    """False where moto cannot decide (it ignores the ``s3:prefix`` condition): model only."""

    @property
    def id(self) -> str:
        return f"{self.who}-{'may' if self.allowed else 'not'}-{self.op}-{self.arg}"


def _cases() -> list[Case]:
    a, b = "agency-a", "agency-b"
    yes, no = True, False
    return [
        # agency-a: its own inbox, and nothing that merely starts like it
        Case(a, "put", "inbox/agency-a/2025/report.pdf", yes),
        Case(a, "put", "inbox/agency-a/2025/年报（2025）+ 附件.pdf", yes),
        Case(a, "put", "inbox/agency-a/2025/seed.pdf", yes),  # overwrite: a re-upload supersedes
        Case(a, "mpu", "inbox/agency-a/2025/big.pdf", yes),
        Case(a, "put", "inbox/agency-b/2025/report.pdf", no),
        Case(a, "mpu", "inbox/agency-b/2025/big.pdf", no),
        Case(a, "put", "inbox/agency-ab/2025/report.pdf", no),
        Case(a, "put", "inbox/agency-a", no),
        Case(a, "put", "inbox/agency-a.pdf", no),
        Case(a, "put", "inbox/AGENCY-A/2025/report.pdf", no),
        Case(a, "put", "inbox/x/agency-a/2025/report.pdf", no),
        Case(a, "put", "outbox/agency-a/2025/s-forged.json", no),
        Case(a, "put", "registry/agencies.csv", no),
        Case(a, "put", "agency-a/2025/report.pdf", no),
        # agency-a reads only its own notices
        Case(a, "get", "outbox/agency-a/2025/s-a.json", yes),
        Case(a, "head", "outbox/agency-a/2025/s-a.json", yes),
        Case(a, "get", "outbox/agency-b/2025/s-b.json", no),
        Case(a, "head", "outbox/agency-b/2025/s-b.json", no),
        Case(a, "get", "outbox/agency-ab/2025/s-ab.json", no),
        Case(a, "get", "inbox/agency-b/2025/report.pdf", no),
        Case(a, "get", "inbox/agency-a/2025/seed.pdf", no),  # uploads are write-only for agencies
        Case(a, "get", "registry/agencies.csv", no),
        # nothing else: no deletes (versions are the record), no ACLs
        Case(a, "delete", "inbox/agency-a/2025/seed.pdf", no),
        Case(a, "delete", "outbox/agency-a/2025/s-a.json", no),
        Case(a, "delete", "inbox/agency-b/2025/report.pdf", no),
        Case(a, "acl", "inbox/agency-a/2025/seed.pdf", no),
        # listing: own folders only (moto ignores s3:prefix, so the denials are the model's)
        Case(a, "list", "inbox/agency-a/", yes),
        Case(a, "list", "inbox/agency-a/2025/", yes),
        Case(a, "list", "outbox/agency-a/", yes),
        Case(a, "list", "inbox/agency-b/", no, moto=False),
        Case(a, "list", "outbox/agency-b/", no, moto=False),
        Case(a, "list", "inbox/agency-ab/", no, moto=False),
        Case(a, "list", "inbox/agency-a", no, moto=False),  # would include agency-ab
        Case(a, "list", "inbox/", no, moto=False),
        Case(a, "list", "", no, moto=False),
        Case(a, "list", None, no, moto=False),
        # agency-b, the mirror image
        Case(b, "put", "inbox/agency-b/2025/report.pdf", yes),
        Case(b, "put", "inbox/agency-a/2025/from-b.pdf", no),
        Case(b, "get", "outbox/agency-b/2025/s-b.json", yes),
        Case(b, "get", "outbox/agency-a/2025/s-a.json", no),
        # the pipeline: reads every inbox, the registry and the outbox, writes only the outbox
        Case("pipeline", "list", None, yes),
        Case("pipeline", "list", "inbox/", yes),
        Case("pipeline", "get", "inbox/agency-a/2025/seed.pdf", yes),
        Case("pipeline", "get", "inbox/agency-b/2025/report.pdf", yes),
        Case("pipeline", "head", "inbox/agency-ab/2025/report.pdf", yes),
        Case("pipeline", "get", "registry/agencies.csv", yes),
        Case("pipeline", "get", "outbox/agency-b/2025/s-b.json", yes),
        Case("pipeline", "put", "outbox/agency-a/2025/s-new.json", yes),
        Case("pipeline", "put", "outbox/_rejected/s-new.json", yes),
        Case("pipeline", "put", "outbox/agency-b/2025/s-new.md", yes),
        Case("pipeline", "put", "inbox/agency-a/2025/forged.pdf", no),
        Case("pipeline", "put", "registry/agencies.csv", no),
        Case("pipeline", "delete", "inbox/agency-b/2025/report.pdf", no),
        Case("pipeline", "delete", "outbox/agency-b/2025/s-b.json", no),
        Case("pipeline", "acl", "outbox/agency-b/2025/s-b.json", no),
        # operators: the pipeline's reads, plus the registry
        Case("operator", "list", None, yes),
        Case("operator", "get", "inbox/agency-b/2025/report.pdf", yes),
        Case("operator", "get", "outbox/agency-a/2025/s-a.json", yes),
        Case("operator", "put", "registry/agencies.csv", yes),
        Case("operator", "delete", "registry/old.csv", yes),
        Case("operator", "put", "inbox/agency-a/2025/on-behalf.pdf", no),
        Case("operator", "put", "outbox/agency-a/2025/s-forged.json", no),
        Case("operator", "delete", "inbox/agency-a/2025/seed.pdf", no),
    ]


CASES = _cases()


# --- moto with IAM enforcement -------------------------------------------------------------------

BOOTSTRAP_REQUESTS = 3
"""Unauthenticated requests moto allows before it enforces IAM: create the admin user, give it a
policy, create its key. Everything afterwards, the admin's own set-up included, is checked."""


@dataclass
class IamServer:
    """A moto server enforcing IAM, the bucket, and one S3 client per principal."""

    endpoint: str
    admin: Any
    admin_iam: Any
    clients: dict[str, Any]
    credentials: dict[str, Credentials]


def _client(service: str, endpoint: str, key: str, secret: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def _new_key(iam: Any, user: str) -> tuple[str, str]:
    k = iam.create_access_key(UserName=user)["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


@pytest.fixture(scope="module")
def server() -> Iterator[IamServer]:
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(BOOTSTRAP_REQUESTS), "DO_NOT_TRACK": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_ready(endpoint, alive=lambda: proc.poll() is None)
        anonymous = _client("iam", endpoint, "test", "test")
        anonymous.create_user(UserName="admin")
        anonymous.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        admin_key = _new_key(anonymous, "admin")
        iam = _client("iam", endpoint, *admin_key)
        admin = _client("s3", endpoint, *admin_key)
        admin.create_bucket(Bucket=BUCKET)
        admin.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        for key in SEEDED:
            admin.put_object(Bucket=BUCKET, Key=key, Body=BODY)
        keys: dict[str, tuple[str, str]] = {}
        for agency in ("agency-a", "agency-b"):
            # Tagged as in production; moto ignores tags, hence the concrete per-agency policy.
            iam.create_user(UserName=agency, Tags=[{"Key": access.AGENCY_TAG, "Value": agency}])
            iam.put_user_policy(UserName=agency, PolicyName="nianbao-agency",
                                PolicyDocument=json.dumps(access.agency_policy(BUCKET, agency)))
            keys[agency] = _new_key(iam, agency)
        # The pipeline and operators get managed policies, as the template deploys them.
        pipeline_arn = iam.create_policy(PolicyName="nianbao-pipeline",
                                         PolicyDocument=json.dumps(access.pipeline_policy(BUCKET)))["Policy"]["Arn"]
        iam.create_user(UserName="pipeline")
        iam.attach_user_policy(UserName="pipeline", PolicyArn=pipeline_arn)
        keys["pipeline"] = _new_key(iam, "pipeline")
        operator_arn = iam.create_policy(PolicyName="nianbao-operator",
                                         PolicyDocument=json.dumps(access.operator_policy(BUCKET)))["Policy"]["Arn"]
        iam.create_group(GroupName="nianbao-operators")
        iam.attach_group_policy(GroupName="nianbao-operators", PolicyArn=operator_arn)
        iam.create_user(UserName="operator")
        iam.add_user_to_group(GroupName="nianbao-operators", UserName="operator")
        keys["operator"] = _new_key(iam, "operator")
        yield IamServer(
            endpoint, admin, iam,
            {who: _client("s3", endpoint, *k) for who, k in keys.items()},
            {who: Credentials(*k) for who, k in keys.items()},
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _exists(admin: Any, key: str) -> bool:
    try:
        admin.head_object(Bucket=BUCKET, Key=key)
    except ClientError as exc:
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise
    return True


def _attempt(s3: Any, op: Op, arg: str | None) -> bool:
    """Do the request; True if it succeeded, False if it was refused with 403 (anything else fails)."""
    try:
        if op == "put":
            s3.put_object(Bucket=BUCKET, Key=arg, Body=BODY)
        elif op == "mpu":
            s3.create_multipart_upload(Bucket=BUCKET, Key=arg)
        elif op == "get":
            s3.get_object(Bucket=BUCKET, Key=arg)["Body"].read()
        elif op == "head":
            s3.head_object(Bucket=BUCKET, Key=arg)
        elif op == "delete":
            s3.delete_object(Bucket=BUCKET, Key=arg)
        elif op == "acl":
            s3.put_object_acl(Bucket=BUCKET, Key=arg, ACL="public-read")
        else:
            s3.list_objects_v2(Bucket=BUCKET, **({} if arg is None else {"Prefix": arg}))
    except ClientError as exc:
        status, code = exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]
        assert status == 403 and code in ("AccessDenied", "403"), f"{op} {arg}: {status} {code}, not a denial"
        return False
    return True


@pytest.mark.parametrize("case", [c for c in CASES if c.moto], ids=lambda c: c.id)
def test_enforced_by_moto(server: IamServer, case: Case) -> None:
    """Each principal's signed request is allowed or refused by the server as AWS would."""
    assert _attempt(server.clients[case.who], case.op, case.arg) is case.allowed
    if case.op == "put" and not case.allowed and case.arg not in SEEDED:
        assert not _exists(server.admin, case.arg or ""), "a refused upload left an object behind"
    if case.op == "delete" and not case.allowed:
        assert _exists(server.admin, case.arg or ""), "a refused delete removed the object"


def test_delete_objects_is_refused_per_key(server: IamServer) -> None:
    """The batch delete (POST ?delete) answers AccessDenied for each key and keeps the objects."""
    keys = ["inbox/agency-a/2025/seed.pdf", "inbox/agency-b/2025/report.pdf"]
    objects = {"Objects": [{"Key": k} for k in keys]}
    r = server.clients["agency-a"].delete_objects(Bucket=BUCKET, Delete=objects)
    assert sorted((e["Key"], e["Code"]) for e in r.get("Errors", [])) == [(k, "AccessDenied") for k in keys]
    assert not r.get("Deleted")
    assert all(_exists(server.admin, k) for k in keys)


def _signed_put(endpoint: str, credentials: Credentials, raw_path: str) -> int:
    """PUT with a hand-written (possibly percent-encoded) path, signed as the SDKs sign."""
    url = endpoint + raw_path
    request = AWSRequest(method="PUT", url=url, data=BODY)
    S3SigV4Auth(credentials, "s3", REGION).add_auth(request)
    response = urllib3.PoolManager().request("PUT", url, body=BODY, headers=dict(request.headers.items()),
                                             redirect=False, retries=False)
    return int(response.status)


def test_tricky_keys_never_land_outside_own_prefix(server: IamServer) -> None:
    """Dot segments, encoded slashes and doubled encodings: whatever agency-a manages to store
    lies under ``inbox/agency-a/`` (the key is authorised as stored, literally), and the pipeline
    either rejects it or attributes it to agency-a."""
    mark = uuid.uuid4().hex[:8]
    via_sdk = [
        f"inbox/agency-a/../agency-b/{mark}-1",
        f"inbox/agency-a/2025/../../agency-b/2025/{mark}-2",
        f"inbox/agency-a%2F..%2Fagency-b/{mark}-3",
        f"inbox/agency-a/%2e%2e/agency-b/{mark}-4",
        f"inbox/agency-a/./../agency-b/{mark}-5",
        f"inbox/agency-a//../agency-b/{mark}-6",
        f"inbox/agency-b/../agency-a/2025/{mark}-7",
    ]
    refused = {f"inbox/agency-a%2F..%2Fagency-b/{mark}-3", f"inbox/agency-b/../agency-a/2025/{mark}-7"}
    a = server.clients["agency-a"]
    for key in via_sdk:
        assert _attempt(a, "put", key) is (key not in refused), key
    raw_paths = [
        f"/{BUCKET}/inbox%2Fagency-b%2F2025%2F{mark}-8",  # an encoded slash is still a slash
        f"/{BUCKET}/inbox/agency-a%2F..%2Fagency-b%2F{mark}-9",
        f"/{BUCKET}/inbox/agency-a/..%2F..%2Finbox%2Fagency-b%2F{mark}-10",
        f"/{BUCKET}/inbox/agency-a/%252F..%252Fagency-b/{mark}-11",
        f"/{BUCKET}/inbox/agency-b/../agency-a/2025/{mark}-12",
        f"/{BUCKET}//inbox/agency-a/2025/{mark}-13",
    ]
    credentials = server.credentials["agency-a"]
    statuses = {path: _signed_put(server.endpoint, credentials, path) for path in raw_paths}
    assert statuses[raw_paths[0]] == 403
    assert statuses[raw_paths[1]] == 200 and statuses[raw_paths[2]] == 200 and statuses[raw_paths[3]] == 200
    # Raw dot segments are normalised away between signing and the server's check, so the
    # signature no longer matches; "//" makes the key start with "/", outside every agency's prefix.
    assert statuses[raw_paths[4]] == 403 and statuses[raw_paths[5]] == 403

    listed = server.admin.list_objects_v2(Bucket=BUCKET)["Contents"]
    stored = [o["Key"] for o in listed if mark in o["Key"]]
    assert len(stored) == len(via_sdk) - len(refused) + 3
    for key in stored:
        assert key.startswith("inbox/agency-a/"), key
        parsed = parse_key(key)
        assert isinstance(parsed, InvalidKey) or parsed.agency_id == "agency-a", key
    assert not [k for k in (o["Key"] for o in listed) if k.startswith("inbox/agency-b/") and mark in k]


def test_the_projects_own_calls_fit_the_policies(server: IamServer) -> None:
    """What ``nianbao upload`` (an agency) and the pipeline actually call works under their policies:
    the agency's PUT with metadata; the pipeline's list, head, get, create-only notice PUT and
    registry read."""
    key = upload_key("agency-a", 2025, "年度报告.pdf")
    agency = S3Store(BUCKET, server.clients["agency-a"])
    agency.put(key, BODY, "application/pdf", metadata={"agency": "agency-a", "year": "2025"})
    pipeline = S3Store(BUCKET, server.clients["pipeline"])
    assert key in [ref.key for ref in pipeline.list("inbox/agency-a/")]
    assert pipeline.head(key) is not None
    assert pipeline.get(key).metadata == {"agency": "agency-a", "year": "2025"}
    json_key, _ = notice_keys("s-store", "agency-a", 2025)
    assert pipeline.put(json_key, b"{}", "application/json", if_none_match=True)
    assert not pipeline.put(json_key, b"{}", "application/json", if_none_match=True)  # create-only
    assert pipeline.head("registry/agencies.csv") is not None and pipeline.get_bytes("registry/agencies.csv")
    assert agency.get_bytes(json_key) == b"{}"
    with pytest.raises(ConfigError, match="AccessDenied"):  # how the store reports a 403
        agency.get_bytes("outbox/agency-b/2025/s-b.json")


def test_what_moto_does_not_enforce(server: IamServer) -> None:
    """Pins moto's gaps (each one is denied on AWS and by the model): if this starts failing, moto
    enforces more than it did and the case belongs in :data:`CASES` with ``moto=True``."""
    a = server.clients["agency-a"]
    # s3:prefix conditions are ignored: the listing allow applies to any prefix.
    listed = a.list_objects_v2(Bucket=BUCKET, Prefix="inbox/agency-b/")
    assert "inbox/agency-b/2025/report.pdf" in [o["Key"] for o in listed["Contents"]]
    # CopyObject is authorised on the destination only; AWS also needs s3:GetObject on the source.
    a.copy_object(Bucket=BUCKET, Key="inbox/agency-a/2025/copied.json",
                  CopySource={"Bucket": BUCKET, "Key": "outbox/agency-b/2025/s-b.json"})
    # An ACL header on PutObject needs only s3:PutObject; AWS also needs s3:PutObjectAcl (and with
    # BucketOwnerEnforced rejects the ACL anyway).
    a.put_object(Bucket=BUCKET, Key="inbox/agency-a/2025/acl.pdf", Body=BODY, ACL="public-read")
    context = _context("agency-a")
    production = [access.agency_policy_template(BUCKET), access.bucket_policy(BUCKET, ACCOUNT)]
    assert not is_allowed(Request("s3:ListBucket", BUCKET_ARN, {**context, "s3:prefix": "inbox/agency-b/"}),
                          production)
    assert not is_allowed(Request("s3:GetObject", f"{BUCKET_ARN}/outbox/agency-b/2025/s-b.json", context),
                          production)
    assert not is_allowed(Request("s3:PutObjectAcl", f"{BUCKET_ARN}/inbox/agency-a/2025/acl.pdf", context),
                          production)


def test_moto_accepts_the_production_documents(server: IamServer) -> None:
    """moto's IAM validator (element names, ARN formats, condition operators) accepts the
    tag-based agency policy too, the one document moto cannot evaluate."""
    doc = json.dumps(access.agency_policy_template(BUCKET))
    created = server.admin_iam.create_policy(PolicyName="nianbao-agency-template", PolicyDocument=doc)
    arn = created["Policy"]["Arn"]
    assert arn.endswith(":policy/nianbao-agency-template")


# --- the policy model: production documents with conditions and variables --------------------------

IDENTITY: dict[str, list[Policy]] = {
    "agency-a": [access.agency_policy_template(BUCKET)],
    "agency-b": [access.agency_policy_template(BUCKET)],
    "pipeline": [access.pipeline_policy(BUCKET)],
    "operator": [access.operator_policy(BUCKET)],
}
ALLOW_ALL: Policy = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


def _context(who: str, **extra: str) -> dict[str, str]:
    ctx = {"aws:PrincipalAccount": ACCOUNT, "aws:SecureTransport": "true"}
    if who.startswith("agency-"):
        ctx[access.AGENCY_TAG_KEY] = who
    return {**ctx, **extra}


def _requests(case: Case) -> list[Request]:
    """The IAM actions a case's S3 call needs (all of them must be allowed)."""
    context = _context(case.who)
    if case.op == "list":
        return [Request("s3:ListBucket", BUCKET_ARN,
                        context if case.arg is None else {**context, "s3:prefix": case.arg})]
    action = {"put": "s3:PutObject", "mpu": "s3:PutObject", "get": "s3:GetObject", "head": "s3:GetObject",
              "delete": "s3:DeleteObject", "acl": "s3:PutObjectAcl"}[case.op]
    return [Request(action, f"{BUCKET_ARN}/{case.arg}", context)]


def _decide(case: Case, policies: list[Policy]) -> bool:
    return all(is_allowed(r, policies) for r in _requests(case))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_production_documents_decide_as_intended(case: Case) -> None:
    """The deployed documents (tag-based agency policy + bucket policy) give every case its answer."""
    assert _decide(case, [*IDENTITY[case.who], access.bucket_policy(BUCKET, ACCOUNT)]) is case.allowed


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_identity_policies_alone_isolate(case: Case) -> None:
    """Without the bucket policy the identity policies still give every answer (first line)."""
    assert _decide(case, IDENTITY[case.who]) is case.allowed


@pytest.mark.parametrize("case", [c for c in CASES if c.who.startswith("agency-")], ids=lambda c: c.id)
def test_bucket_policy_alone_confines_agencies(case: Case) -> None:
    """An agency given ``s3:*`` by mistake is still held to its own folders by the bucket policy
    (second line): the bucket policy's denies reproduce the agency policy exactly."""
    assert _decide(case, [ALLOW_ALL, access.bucket_policy(BUCKET, ACCOUNT)]) is case.allowed


def test_bucket_policy_guards() -> None:
    """TLS only, this account only, and no inbox write by a principal without the agency tag."""
    bucket = access.bucket_policy(BUCKET, ACCOUNT)
    own = f"{BUCKET_ARN}/inbox/agency-a/2025/report.pdf"
    agency = [*IDENTITY["agency-a"], bucket]
    assert is_allowed(Request("s3:PutObject", own, _context("agency-a")), agency)
    plain_http = _context("agency-a", **{"aws:SecureTransport": "false"})
    assert not is_allowed(Request("s3:PutObject", own, plain_http), agency)
    outsider = _context("agency-a", **{"aws:PrincipalAccount": "999999999999"})
    assert not is_allowed(Request("s3:PutObject", own, outsider), [ALLOW_ALL, bucket])
    anonymous = {"aws:SecureTransport": "true"}
    assert not is_allowed(Request("s3:GetObject", f"{BUCKET_ARN}/outbox/agency-a/2025/s-a.json", anonymous),
                          [ALLOW_ALL, bucket])
    # An untagged administrator may do much, but never speak for an agency in the inbox.
    admin = _context("admin")
    assert not is_allowed(Request("s3:PutObject", own, admin), [ALLOW_ALL, bucket])
    for key in ("outbox/agency-a/2025/s.json", "registry/agencies.csv"):
        assert is_allowed(Request("s3:PutObject", f"{BUCKET_ARN}/{key}", admin), [ALLOW_ALL, bucket])


def test_agency_policy_outlasts_a_mistaken_grant() -> None:
    """A delete, ACL or bucket-policy grant attached to an agency by mistake stays without effect
    (the agency policy's own explicit deny, even without the bucket policy)."""
    mistaken: Policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:Delete*", "s3:Put*Acl", "s3:PutBucketPolicy"], "Resource": "*"}]}
    policies = [*IDENTITY["agency-a"], mistaken]
    context = _context("agency-a")
    own = f"{BUCKET_ARN}/inbox/agency-a/2025/seed.pdf"
    for action, resource in (("s3:DeleteObject", own), ("s3:DeleteObjectVersion", own),
                             ("s3:PutObjectAcl", own), ("s3:PutBucketPolicy", BUCKET_ARN),
                             ("s3:DeleteBucket", BUCKET_ARN)):
        assert not is_allowed(Request(action, resource, context), policies), action


def test_untagged_member_of_the_agencies_group_gets_nothing() -> None:
    """A user put in the agencies group without its tag is refused everything, not given ``inbox//``."""
    untagged = _context("someone")
    template = IDENTITY["agency-a"]
    for request in (
        Request("s3:PutObject", f"{BUCKET_ARN}/inbox//2025/x.pdf", untagged),
        Request("s3:PutObject", f"{BUCKET_ARN}/inbox/agency-a/2025/x.pdf", untagged),
        Request("s3:GetObject", f"{BUCKET_ARN}/outbox/agency-a/2025/s-a.json", untagged),
        Request("s3:ListBucket", BUCKET_ARN, {**untagged, "s3:prefix": "inbox//"}),
    ):
        assert not is_allowed(request, template), request


def test_copy_needs_read_access_to_the_source() -> None:
    """CopyObject into the own inbox from another agency's notice: the source read is refused."""
    context = _context("agency-a")
    production = [*IDENTITY["agency-a"], access.bucket_policy(BUCKET, ACCOUNT)]
    destination = f"{BUCKET_ARN}/inbox/agency-a/2025/copied.json"
    assert is_allowed(Request("s3:PutObject", destination, context), production)
    assert not is_allowed(Request("s3:GetObject", f"{BUCKET_ARN}/outbox/agency-b/2025/s-b.json", context),
                          production)


# --- the documents themselves --------------------------------------------------------------------

def test_concrete_policy_is_the_template_with_the_tag_substituted() -> None:
    """What moto enforces is exactly what production IAM evaluates for a tagged agency."""
    template = access.agency_policy_template(BUCKET)
    substituted = json.loads(json.dumps(template).replace(access.AGENCY_VARIABLE, "agency-a"))
    untagged_guard = substituted["Statement"].pop()
    assert untagged_guard["Sid"] == "NothingWithoutAgencyTag"
    assert substituted == access.agency_policy(BUCKET, "agency-a")


def test_every_id_ends_with_a_slash() -> None:
    """``agency-a`` must never match ``agency-ab``: every resource and prefix pattern closes the id."""
    text = json.dumps([access.agency_policy(BUCKET, "agency-a"), access.agency_policy_template(BUCKET),
                       access.bucket_policy(BUCKET, ACCOUNT)])
    ids = re.findall(r"(?:agency-a|\$\{aws:PrincipalTag/nianbao-agency\})(.)", text)
    assert ids and set(ids) == {"/"}


@pytest.mark.parametrize("agency_id", ["", "Agency-A", "../agency-b", "agency-a/", "agency-*", "a?", "-a",
                                       "agency a", "a" * 65, "${aws:username}"])
def test_agency_policy_rejects_ids_outside_the_layout(agency_id: str) -> None:
    with pytest.raises(ValueError):
        access.agency_policy(BUCKET, agency_id)


@pytest.mark.parametrize(("inbox", "outbox"), [("", "outbox/"), ("inbox", "outbox/"), ("in*/", "outbox/"),
                                               ("data/", "data/out/"), ("/inbox/", "outbox/")])
def test_prefixes_that_would_widen_a_policy_are_rejected(inbox: str, outbox: str) -> None:
    with pytest.raises(ValueError):
        access.agency_policy(BUCKET, "agency-a", inbox, outbox)


def test_configured_prefixes_are_used() -> None:
    doc = access.agency_policy(BUCKET, "agency-a", "uploads/", "answers/")
    assert doc["Statement"][0]["Resource"] == f"{BUCKET_ARN}/uploads/agency-a/*"
    prefixes = doc["Statement"][2]["Condition"]["StringLike"]["s3:prefix"]
    assert prefixes == ["uploads/agency-a/*", "answers/agency-a/*"]
    assert access.pipeline_policy(BUCKET, registry_key="agencies.csv")["Statement"][1]["Resource"][2] == (
        f"{BUCKET_ARN}/agencies.csv")
    with pytest.raises(ValueError):
        access.pipeline_policy(BUCKET, registry_key="inbox/agencies.csv")
    with pytest.raises(ValueError):
        access.bucket_policy(BUCKET, "not-an-account")


def test_policy_files_are_generated() -> None:
    """``infra/aws/policies`` is what the generator writes (regenerate with
    ``python -m nianbao.intake.access --write infra/aws/policies``)."""
    expected = access.policy_files()
    assert sorted(p.name for p in POLICY_DIR.glob("*.json")) == sorted(expected)
    for name, doc in expected.items():
        assert (POLICY_DIR / name).read_text(encoding="utf-8") == access.dumps(doc), name


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags as their long forms."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise TypeError(node)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:nianbao-uploads"
_NAMES = {
    "AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::StackName": "nianbao",
    "BucketName": BUCKET, "ReportsBucket": BUCKET, "ReportsBucket.Arn": BUCKET_ARN,
    "UploadQueue.Arn": QUEUE_ARN,
}


def _resolve(node: Any) -> Any:
    """Evaluate the intrinsic functions the policies use (Ref, GetAtt, Sub) for one stack."""
    if isinstance(node, list):
        return [_resolve(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return _NAMES[node["Ref"]]
    if set(node) == {"Fn::GetAtt"}:
        return _NAMES[".".join(node["Fn::GetAtt"])]
    if set(node) == {"Fn::Sub"}:
        # "${!x}" is CloudFormation's escape for a literal "${x}" (an IAM policy variable).
        return re.sub(r"\$\{(!?)([^}]+)\}", lambda m: "${" + m[2] + "}" if m[1] else _NAMES[m[2]],
                      node["Fn::Sub"])
    return {k: _resolve(v) for k, v in node.items()}


def test_cloudformation_template_deploys_the_generated_policies() -> None:
    """Each policy in ``infra/aws/template.yaml``, with the stack's values filled in, is the generator's."""
    resources = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CfnLoader)["Resources"]

    def document(name: str) -> Any:
        return _resolve(resources[name]["Properties"]["PolicyDocument"])

    assert document("AgencyPolicy") == access.agency_policy_template(BUCKET)
    assert document("PipelinePolicy") == access.pipeline_policy(BUCKET, queue_arn=QUEUE_ARN)
    assert document("OperatorPolicy") == access.operator_policy(BUCKET)
    assert document("ReportsBucketPolicy") == access.bucket_policy(BUCKET, ACCOUNT)
    assert resources["AgenciesGroup"]["Properties"]["ManagedPolicyArns"] == [{"Ref": "AgencyPolicy"}]
    assert resources["OperatorsGroup"]["Properties"]["ManagedPolicyArns"] == [{"Ref": "OperatorPolicy"}]
    assert resources["ExampleAgencyUser"]["Properties"]["Tags"][0]["Key"] == access.AGENCY_TAG
