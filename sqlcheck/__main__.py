"""``python -m sqlcheck lint flink_sql/`` (see ``sqlcheck.lint.main``)."""

from sqlcheck.lint import main

raise SystemExit(main())
