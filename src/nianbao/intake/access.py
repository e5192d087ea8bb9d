"""Who may touch which keys of the shared bucket: the IAM and bucket policy documents, generated.

The key is the uploader's identity (see :mod:`nianbao.intake.keys`), so the bucket must make it
impossible to upload under another agency's id. Four documents do that:

- the **agency** policy: ``s3:PutObject`` only on ``<inbox><own id>/*``, ``s3:GetObject`` only on
  ``<outbox><own id>/*``, ``s3:ListBucket`` only with an ``s3:prefix`` under those two, and an
  explicit deny of every other S3 action on the bucket (no deletes, ACLs, tagging, bucket policy
  changes). :func:`agency_policy` is the concrete policy for one id; :func:`agency_policy_template`
  is the single production policy where the id is the principal tag ``nianbao-agency``;
- the **pipeline** policy: list the bucket, read uploads, notices and the registry, write notices;
- the **operator** policy: the pipeline's rights plus managing the registry and reading history;
- the **bucket** policy (defence in depth, AWS only): TLS only, this account only, nobody without
  the agency tag writes the inbox, and a tagged principal can do no more than the agency policy
  allows whatever identity policies it is given.

Every id and prefix ends with ``/`` in a resource or ``s3:prefix`` pattern, so ``agency-a`` never
matches ``agency-ab``. ``infra/aws/policies/*.json`` and ``infra/aws/template.yaml`` are checked
against these functions by ``tests/infra``; regenerate the JSON files with
``python -m nianbao.intake.access --write infra/aws/policies``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nianbao.intake.keys import valid_agency_id

Policy = dict[str, Any]
Statement = dict[str, Any]

VERSION = "2012-10-17"
AGENCY_TAG = "nianbao-agency"
"""IAM tag on an agency's user or role whose value is its agency id."""
AGENCY_TAG_KEY = f"aws:PrincipalTag/{AGENCY_TAG}"
AGENCY_VARIABLE = "${" + AGENCY_TAG_KEY + "}"
"""The policy variable IAM replaces with the caller's agency id."""

AGENCY_ACTIONS = ("s3:PutObject", "s3:GetObject", "s3:ListBucket")
"""Everything an agency ever does on the bucket; any other S3 action is denied explicitly."""

EXAMPLE_BUCKET = "nianbao"
EXAMPLE_ACCOUNT = "111122223333"
"""What the files in ``infra/aws/policies`` are rendered for (the default bucket, AWS's example account)."""

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_ACCOUNT = re.compile(r"[0-9]{12}")
_PARTITION = re.compile(r"aws(-[a-z]+)*")  # aws, aws-cn, aws-us-gov
# Characters with a meaning in IAM patterns: a prefix containing one would widen the policy.
_PATTERN_CHARS = re.compile(r"[*?$\[\]{}]")


def _bucket_arn(bucket: str, partition: str) -> str:
    if not _PARTITION.fullmatch(partition):
        raise ValueError(f"not an AWS partition: {partition!r}")
    if not _BUCKET.fullmatch(bucket):
        raise ValueError(f"not a valid S3 bucket name: {bucket!r}")
    return f"arn:{partition}:s3:::{bucket}"


def _checked_prefix(prefix: str, what: str) -> str:
    # An empty prefix would turn "own inbox" into "the whole bucket"; a missing "/" would let an
    # id match every id it is a prefix of.
    if not prefix.endswith("/") or prefix.startswith("/") or _PATTERN_CHARS.search(prefix):
        raise ValueError(f"{what} must be non-empty, end with '/' and contain no wildcards: {prefix!r}")
    return prefix


def _checked_prefixes(inbox_prefix: str, outbox_prefix: str) -> tuple[str, str]:
    inbox = _checked_prefix(inbox_prefix, "inbox_prefix")
    outbox = _checked_prefix(outbox_prefix, "outbox_prefix")
    if inbox.startswith(outbox) or outbox.startswith(inbox):
        raise ValueError(f"inbox and outbox prefixes overlap: {inbox!r}, {outbox!r}")
    return inbox, outbox


def _registry_resource(arn: str, registry_key: str, inbox: str, outbox: str) -> str:
    if not registry_key or registry_key.startswith("/") or _PATTERN_CHARS.search(registry_key):
        raise ValueError(f"registry_key must be a plain object key: {registry_key!r}")
    if registry_key.startswith((inbox, outbox)):
        raise ValueError(f"registry_key must not be under the inbox or outbox: {registry_key!r}")
    # The registry's folder, so a second registry file (or a renamed one) needs no policy change.
    folder, sep, _ = registry_key.rpartition("/")
    return f"{arn}/{folder}/*" if sep else f"{arn}/{registry_key}"


def _policy(statements: list[Statement]) -> Policy:
    return {"Version": VERSION, "Statement": statements}


def _agency_statements(arn: str, agency: str, inbox: str, outbox: str) -> list[Statement]:
    return [
        {
            "Sid": "UploadOwnReports",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"{arn}/{inbox}{agency}/*",
        },
        {
            "Sid": "ReadOwnNotices",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"{arn}/{outbox}{agency}/*",
        },
        {
            "Sid": "ListOwnFolders",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{inbox}{agency}/*", f"{outbox}{agency}/*"]}},
        },
        {
            # Explicit, so that no other policy attached to the agency by mistake can grant a
            # delete (history is the record), an ACL (objects stay private) or a policy change.
            "Sid": "NothingElseOnTheBucket",
            "Effect": "Deny",
            "NotAction": list(AGENCY_ACTIONS),
            "Resource": [arn, f"{arn}/*"],
        },
    ]


def agency_policy(
    bucket: str,
    agency_id: str,
    inbox_prefix: str = "inbox/",
    outbox_prefix: str = "outbox/",
    *,
    partition: str = "aws",
) -> Policy:
    """The identity policy of one agency, its id written into every resource and prefix.

    Raises ValueError for an agency id outside ``[a-z0-9][a-z0-9_-]{0,63}`` (the ids the key
    layout accepts) and for prefixes that would widen it.
    """
    if not valid_agency_id(agency_id):
        raise ValueError(f"not a valid agency id: {agency_id!r}")
    inbox, outbox = _checked_prefixes(inbox_prefix, outbox_prefix)
    return _policy(_agency_statements(_bucket_arn(bucket, partition), agency_id, inbox, outbox))


def agency_policy_template(
    bucket: str,
    inbox_prefix: str = "inbox/",
    outbox_prefix: str = "outbox/",
    *,
    partition: str = "aws",
) -> Policy:
    """The one agency policy for production IAM: the id is the caller's ``nianbao-agency`` tag.

    With the tag's value substituted it is :func:`agency_policy` plus a deny of everything for a
    principal that carries no tag (IAM leaves an unresolvable variable unmatched; the deny makes
    that explicit rather than relying on it).
    """
    inbox, outbox = _checked_prefixes(inbox_prefix, outbox_prefix)
    arn = _bucket_arn(bucket, partition)
    untagged: Statement = {
        "Sid": "NothingWithoutAgencyTag",
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Null": {AGENCY_TAG_KEY: "true"}},
    }
    return _policy([*_agency_statements(arn, AGENCY_VARIABLE, inbox, outbox), untagged])


def _readable(arn: str, inbox: str, outbox: str, registry: str) -> list[str]:
    """What the pipeline and operators read: every upload, every notice and the registry."""
    return [f"{arn}/{inbox}*", f"{arn}/{outbox}*", registry]


def _read_statements(arn: str, inbox: str, outbox: str, registry: str) -> list[Statement]:
    return [
        {"Sid": "ListBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn},
        {
            "Sid": "ReadUploadsNoticesRegistry",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": _readable(arn, inbox, outbox, registry),
        },
    ]


def pipeline_policy(
    bucket: str,
    inbox_prefix: str = "inbox/",
    outbox_prefix: str = "outbox/",
    registry_key: str = "registry/agencies.csv",
    *,
    queue_arn: str | None = None,
    partition: str = "aws",
) -> Policy:
    """The pipeline's identity policy: list, read every upload, notice and the registry, write notices.

    ``queue_arn`` adds consuming the upload queue (the SQS queue of ``infra/aws/template.yaml``).
    It cannot write the inbox or the registry, nor delete anything.
    """
    inbox, outbox = _checked_prefixes(inbox_prefix, outbox_prefix)
    arn = _bucket_arn(bucket, partition)
    statements = [
        *_read_statements(arn, inbox, outbox, _registry_resource(arn, registry_key, inbox, outbox)),
        {"Sid": "WriteNotices", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{arn}/{outbox}*"},
    ]
    if queue_arn is not None:
        statements.append({
            "Sid": "ConsumeUploadQueue",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                       "sqs:GetQueueAttributes"],
            "Resource": queue_arn,
        })
    return _policy(statements)


def operator_policy(
    bucket: str,
    inbox_prefix: str = "inbox/",
    outbox_prefix: str = "outbox/",
    registry_key: str = "registry/agencies.csv",
    *,
    partition: str = "aws",
) -> Policy:
    """The operators' (people's) identity policy: what the pipeline reads, plus the registry and history.

    Operators replace or remove the registry and read earlier versions of any object (a
    re-upload supersedes, the earlier version is the record). They write neither the inbox (that
    is the agencies' word) nor the outbox (that is the pipeline's), and delete no upload.
    """
    inbox, outbox = _checked_prefixes(inbox_prefix, outbox_prefix)
    arn = _bucket_arn(bucket, partition)
    registry = _registry_resource(arn, registry_key, inbox, outbox)
    return _policy([
        *_read_statements(arn, inbox, outbox, registry),
        {"Sid": "ManageRegistry", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
         "Resource": registry},
        {"Sid": "ListHistory", "Effect": "Allow", "Action": "s3:ListBucketVersions", "Resource": arn},
        {
            "Sid": "ReadHistory",
            "Effect": "Allow",
            "Action": "s3:GetObjectVersion",
            "Resource": _readable(arn, inbox, outbox, registry),
        },
    ])


def bucket_policy(
    bucket: str,
    account_id: str,
    inbox_prefix: str = "inbox/",
    outbox_prefix: str = "outbox/",
    *,
    partition: str = "aws",
) -> Policy:
    """The bucket's resource policy: only denies, so it can only ever narrow what IAM grants.

    TLS only; principals of ``account_id`` only (AWS services acting for the bucket excepted);
    the inbox is written only by a principal whose ``nianbao-agency`` tag is the key's agency; and
    a tagged principal can do nothing beyond the agency policy, whatever else it is granted.
    """
    if not _ACCOUNT.fullmatch(account_id):
        raise ValueError(f"not an AWS account id: {account_id!r}")
    inbox, outbox = _checked_prefixes(inbox_prefix, outbox_prefix)
    arn = _bucket_arn(bucket, partition)
    everything = [arn, f"{arn}/*"]
    tagged = {"Null": {AGENCY_TAG_KEY: "false"}}
    own_folders = [f"{inbox}{AGENCY_VARIABLE}/*", f"{outbox}{AGENCY_VARIABLE}/*"]
    return _policy([
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": everything,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOtherAccounts",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": everything,
            "Condition": {
                "StringNotEquals": {"aws:PrincipalAccount": account_id},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        },
        {
            # Operators and the pipeline carry no agency tag: an upload is always an agency's own.
            "Sid": "DenyInboxWritesWithoutAgencyTag",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{arn}/{inbox}*",
            "Condition": {"Null": {AGENCY_TAG_KEY: "true"}},
        },
        {
            "Sid": "DenyAgencyWritesOutsideOwnInbox",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "NotResource": f"{arn}/{inbox}{AGENCY_VARIABLE}/*",
            "Condition": tagged,
        },
        {
            "Sid": "DenyAgencyReadsOutsideOwnOutbox",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "NotResource": f"{arn}/{outbox}{AGENCY_VARIABLE}/*",
            "Condition": tagged,
        },
        {
            "Sid": "DenyAgencyListingOutsideOwnFolders",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:ListBucket",
            "Resource": arn,
            "Condition": {**tagged, "StringNotLike": {"s3:prefix": own_folders}},
        },
        {
            "Sid": "DenyAgencyAnythingElse",
            "Effect": "Deny",
            "Principal": "*",
            "NotAction": list(AGENCY_ACTIONS),
            "Resource": everything,
            "Condition": tagged,
        },
    ])


def policy_files(
    bucket: str = EXAMPLE_BUCKET,
    account_id: str = EXAMPLE_ACCOUNT,
    inbox_prefix: str = "inbox/",
    outbox_prefix: str = "outbox/",
    registry_key: str = "registry/agencies.csv",
) -> dict[str, Policy]:
    """The documents of ``infra/aws/policies``, by file name."""
    return {
        "agency.json": agency_policy_template(bucket, inbox_prefix, outbox_prefix),
        "pipeline.json": pipeline_policy(bucket, inbox_prefix, outbox_prefix, registry_key),
        "operator.json": operator_policy(bucket, inbox_prefix, outbox_prefix, registry_key),
        "bucket.json": bucket_policy(bucket, account_id, inbox_prefix, outbox_prefix),
    }


def dumps(policy: Policy) -> str:
    """A policy as the files store it (stable, reviewable diffs)."""
    return json.dumps(policy, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m nianbao.intake.access``: print one policy, or write all of them to a directory."""
    parser = argparse.ArgumentParser(prog="python -m nianbao.intake.access",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("kind", nargs="?", default="all",
                        choices=["all", "agency", "agency-template", "pipeline", "operator", "bucket"])
    parser.add_argument("--bucket", default=EXAMPLE_BUCKET)
    parser.add_argument("--account-id", default=EXAMPLE_ACCOUNT)
    parser.add_argument("--agency-id", help="for kind 'agency'")
    parser.add_argument("--inbox-prefix", default="inbox/")
    parser.add_argument("--outbox-prefix", default="outbox/")
    parser.add_argument("--registry-key", default="registry/agencies.csv")
    parser.add_argument("--write", type=Path, metavar="DIR", help="write every policy file into DIR")
    args = parser.parse_args(argv)
    try:
        files = policy_files(args.bucket, args.account_id, args.inbox_prefix, args.outbox_prefix,
                             args.registry_key)
        if args.write is not None:
            args.write.mkdir(parents=True, exist_ok=True)
            for name, doc in files.items():
                (args.write / name).write_text(dumps(doc), encoding="utf-8")
            return 0
        if args.kind == "agency":
            if not args.agency_id:
                parser.error("kind 'agency' needs --agency-id")
            doc: Policy | dict[str, Policy] = agency_policy(args.bucket, args.agency_id, args.inbox_prefix,
                                                            args.outbox_prefix)
        elif args.kind == "all":
            doc = files
        else:
            doc = files[("agency" if args.kind == "agency-template" else args.kind) + ".json"]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(dumps(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
