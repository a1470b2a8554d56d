"""The same failure reads the same through the MCP server as through the core client."""

from __future__ import annotations

import re

import pytest
from mcp import Client

from mcp_server import Settings, build_server
from milady_integrations import AsyncMiladyClient, MiladyError
from milady_integrations.access import KeyPolicy
from milady_integrations.local import LocalServer

KEY = "mk-table-SECRET-3333333333"


def without_request_id(text: str) -> str:
    return re.sub(r" \(request id [^)]+\)", "", text)


@pytest.mark.parametrize("status", [401, 402, 500, 503])
async def test_a_service_failure_is_a_tool_error_with_the_shared_line(server: LocalServer, status: int) -> None:
    server.faults.force_status(status, count=3)  # enough to outlast the retries of failures worth retrying
    async with AsyncMiladyClient(KEY, base_url=server.base_url) as direct:
        with pytest.raises(MiladyError) as caught:
            await direct.generate_image("a fox")
    expected = str(caught.value)
    if status == 401:  # the hint that fits a face whose operator configured the key
        assert "MILADY_API_KEY" in expected
    server.faults.clear()
    server.faults.force_status(status, count=3)
    mcp = build_server(Settings(KeyPolicy(KEY), base_url=server.base_url))
    async with Client(mcp) as client:
        result = await client.call_tool("generate_image", {"prompt": "a fox"})
        assert result.is_error
        assert without_request_id(result.content[0].text) == without_request_id(expected)
        server.faults.clear()
        assert not (await client.call_tool("generate_image", {"prompt": "a fox"})).is_error
