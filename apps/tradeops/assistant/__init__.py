"""The MCP server: AI assistants read the desk, run backtests and the gate, and propose changes as pull requests.

`tradeops serve mcp` (streamable HTTP, bearer tokens name principals) and `tradeops mcp stdio` (a
local assistant). Named `assistant` so it never shadows the `mcp` SDK package.
"""
