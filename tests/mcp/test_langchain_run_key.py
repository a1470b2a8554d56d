"""The LangChain tool bills each run to the key in its configuration, through the core's key mechanism."""

from __future__ import annotations

import pytest
from langchain_core.messages import ToolMessage

from langchain_tool import MiladyCreditsTool, MiladyImageGenerationTool
from milady_integrations.local import LocalServer, ServerConfig

TOOL_KEY = "mk-tool-SECRET-1111111111"
RUN_KEY = "mk-run-SECRET-2222222222"


def call(args: dict[str, object], name: str = "generate_image") -> dict[str, object]:
    return {"type": "tool_call", "id": "call_1", "name": name, "args": args}


@pytest.mark.parametrize("use_async", [False, True])
async def test_a_run_key_pays_instead_of_the_tools_key(server: LocalServer, use_async: bool) -> None:
    tool = MiladyImageGenerationTool(api_key=TOOL_KEY, base_url=server.base_url)
    config = {"configurable": {"milady_api_key": RUN_KEY}}
    tool_before, run_before = server.credits(TOOL_KEY), server.credits(RUN_KEY)
    args = call({"prompt": "a heron", "num_images": 2})
    message = await tool.ainvoke(args, config) if use_async else tool.invoke(args, config)
    assert isinstance(message, ToolMessage) and message.status == "success"
    assert server.credits(RUN_KEY) == pytest.approx(run_before - 0.04)
    assert server.credits(TOOL_KEY) == tool_before
    # Without a run key, the tool's own key pays, as before.
    tool.invoke(call({"prompt": "a heron"}))
    assert server.credits(TOOL_KEY) == pytest.approx(tool_before - 0.02)
    await tool.aclose()


async def test_a_refused_run_key_is_told_where_the_key_goes() -> None:
    with LocalServer(ServerConfig(api_keys={TOOL_KEY})) as strict:
        tool = MiladyCreditsTool(api_key=TOOL_KEY, base_url=strict.base_url)
        message = tool.invoke(call({}, "milady_credits_balance"), {"configurable": {"milady_api_key": RUN_KEY}})
        assert message.status == "error"
        assert 'config["configurable"]["milady_api_key"]' in message.content
        assert RUN_KEY not in message.content and "MILADY_API_KEY" not in message.content
        assert tool.invoke(call({}, "milady_credits_balance")).status == "success"
