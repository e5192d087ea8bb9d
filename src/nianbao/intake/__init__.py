"""Intake: the bucket side of the pipeline (object keys, the store, the agency registry).

Importing this package is cheap: boto3 and moto are imported only when a store or a local
server is actually created.
"""

from nianbao.intake.keys import InvalidKey, UploadKey, notice_keys, parse_key, submission_id, upload_key
from nianbao.intake.registry import Agency, Registry, load_registry
from nianbao.intake.store import ObjectGone, ObjectRef, ObjectStore, S3Store, StoredObject

__all__ = [
    "Agency",
    "InvalidKey",
    "ObjectGone",
    "ObjectRef",
    "ObjectStore",
    "Registry",
    "S3Store",
    "StoredObject",
    "UploadKey",
    "load_registry",
    "notice_keys",
    "parse_key",
    "submission_id",
    "upload_key",
]
