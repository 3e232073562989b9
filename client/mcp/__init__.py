"""`catalytic mcp`: a Model Context Protocol server in front of the daemon.

Importing this package imports nothing from the `mcp` SDK; `server.build_server`
does, so `catalytic.client` and the CLI's parser stay light.
"""
