"""`python -m anprd`."""

from anprd.cli import main

raise SystemExit(main())
