"""`python -m bot` is the same as the `mle-advisor` command."""

from bot.cli import main

raise SystemExit(main())
