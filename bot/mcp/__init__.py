"""policybot as a Model Context Protocol server (`policybot mcp`): tools that ask, search and compare the terms
through the one `ask()` / `search()`, and the stored document versions as resources.

Nothing is imported here: the MCP SDK loads only when `bot.mcp.server` is, so `policybot --help` stays fast.
"""
