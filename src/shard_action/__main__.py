from shard_action.cli import main

raise SystemExit(main())
