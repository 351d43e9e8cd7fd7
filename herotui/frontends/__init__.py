"""Front-ends: each one derived from the registry (CLI now; TUI, MCP, RPC later)."""
