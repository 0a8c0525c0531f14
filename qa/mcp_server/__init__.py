"""wenyuan as an MCP server (issue 22): the tools and resources, over stdio (`qa mcp`) and at /mcp on `qa serve`."""
