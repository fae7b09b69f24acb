"""`python -m hub` is the `chatwootai` command."""

from hub.cli import main

main()
