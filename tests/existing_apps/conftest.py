"""The existing apps are projects the adoption tests copy and adopt the harness
into; their own tests run inside those copies, never as template tests."""

collect_ignore_glob = ["*"]
