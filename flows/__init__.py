"""Prefect flows: thin wrappers that map parameters onto :mod:`nianbao.pipeline`.

No parsing or SQL lives here. ``ingest`` checks and loads uploads (named keys or everything
new), ``watch`` is the reconciling poller, and ``serve.py`` declares the deployments an operator
sees in the Prefect UI.
"""
