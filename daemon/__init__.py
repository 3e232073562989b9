"""The catalytic daemon: server, protocol handling, dispatch, lifecycle."""
