"""``python -m graphpool``: the ``graphpool`` command (see ``graphpool._cli``)."""

from ._cli import main

raise SystemExit(main())
