"""`taiyi data fetch` and `taiyi data add`: get a dataset's release files into ``data/raw/<name>/``.

One module per concern:

- ``http``: one URL to one file (``.part`` + sidecar, Range resume, sha256, atomic rename)
- ``archive``: safe unpacking (no member outside the target, no link out, a size limit)
- ``hub``: a Hugging Face Hub repo at a pinned revision (huggingface_hub: HF_ENDPOINT, offline, cache)
- ``mirrors``: per-host base-URL rewrites (profile ``mirrors:`` or ``TAIYI_MIRROR``)
- ``record``: ``FETCHED.json``, the checksums recorded by a first download where the catalog has none
- ``convert``: the conversions a release needs before its reader can read it (catalog ``convert:``)
- ``plan``: what a fetch would do (``--dry-run``, ``--json``)
- ``engine``: one dataset end to end, and many in parallel with a bound
- ``add``: a user-downloaded archive or folder (registration, data-use agreement) put into place

Only the user's login-node command fetches: the data step of a job reads ``data/raw`` and never imports
this package (``tests/data/test_fetch_offline.py``).
"""
