"""What every report of the suite is written with, whoever computes it.

Shared by the parity proof (:mod:`replicate.parity`) and the comparison
harness (:mod:`compare`), and part of neither: the model package does not
write reports, and the parity proof must not depend on the harness.

- :mod:`provenance.tables`: a table -> ``<stem>.csv`` and ``<stem>.md``,
  rows sorted, one fixed float format (``%.6g``), so a rerun diffs cleanly;
- :mod:`provenance.stamp`: the block every report carries (package
  versions, commit, device, date) and file checksums.
"""
