"""`python -m onboard_sync.cli`: the same as the `onboard-sync` command."""

from onboard_sync.cli import main

main()
