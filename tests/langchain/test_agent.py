"""The tool inside a real agent loop (langchain.agents.create_agent) driven by a fake chat model."""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain_core.load import dumps
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from langchain_tool import MiladyToolkit
from milady_integrations import STYLE_PRESETS
from milady_integrations.local import LocalServer

from .conftest import ToolCallingFakeModel, tool_call_turn

SECRET = "sk-agent-secret-91c2"
FINAL = "Here is your lighthouse."


async def run_agent(kind: str, turns: list[AIMessage], tools: list[Any]) -> list[Any]:
    model = ToolCallingFakeModel(messages=iter(turns))
    agent = create_agent(model, tools, system_prompt="You draw pictures.")
    request = {"messages": [HumanMessage("Draw a lighthouse at dusk, cinematic, wide.")]}
    state = agent.invoke(request) if kind == "sync" else await agent.ainvoke(request)
    return list(state["messages"])


def image_tools(server: LocalServer, **options: Any) -> tuple[MiladyToolkit, list[Any]]:
    toolkit = MiladyToolkit(api_key=SECRET, base_url=server.base_url, max_retries=0, **options)
    return toolkit, toolkit.get_tools()


async def test_the_agent_gets_images_and_answers(kind_sync_async: str, server: LocalServer) -> None:
    toolkit, tools = image_tools(server)
    args = {"prompt": "a lighthouse at dusk", "style_preset": "cinematic", "aspect_ratio": "16:9"}
    try:
        messages = await run_agent(kind_sync_async, [tool_call_turn(**args), AIMessage(FINAL)], tools)
    finally:
        await toolkit.aclose()
    _, call, result, final = messages
    assert isinstance(call, AIMessage) and call.tool_calls[0]["args"] == args
    assert isinstance(result, ToolMessage) and result.status == "success"
    assert result.tool_call_id == call.tool_calls[0]["id"]
    assert result.artifact["returned"] == 1 and result.artifact["urls"]
    assert result.artifact["style_preset"] == "cinematic"
    assert "in a cinematic style" in server.requests[0]["enhancedPrompt"]
    assert result.artifact["urls"][0] in result.text
    assert isinstance(final, AIMessage) and final.text == FINAL
    assert SECRET not in dumps(messages)


async def test_a_402_ends_in_an_error_message_and_an_answer(kind_sync_async: str, server: LocalServer) -> None:
    toolkit, tools = image_tools(server)
    server.faults.force_status(402)
    turns = [tool_call_turn(prompt="a lighthouse"), AIMessage("You are out of credits.")]
    try:
        messages = await run_agent(kind_sync_async, turns, tools)
    finally:
        await toolkit.aclose()
    result, final = messages[2], messages[3]
    assert isinstance(result, ToolMessage) and result.status == "error"
    assert result.text.startswith("Insufficient credits: 0.02 required. Add credits to your account.")
    assert final.text == "You are out of credits."
    assert SECRET not in dumps(messages)


async def test_the_model_can_fix_bad_arguments_and_check_credits(
    kind_sync_async: str, server: LocalServer
) -> None:
    toolkit, tools = image_tools(server)
    turns = [
        tool_call_turn(call_id="c1", prompt="a lighthouse", style_preset="watercolour"),
        tool_call_turn(call_id="c2", prompt="a lighthouse", style_preset="analog-film"),
        tool_call_turn(name="milady_credits_balance", call_id="c3"),
        AIMessage(FINAL),
    ]
    try:
        messages = await run_agent(kind_sync_async, turns, tools)
    finally:
        await toolkit.aclose()
    refused, made, balance = (m for m in messages if isinstance(m, ToolMessage))
    assert refused.status == "error"
    assert "style_preset='watercolour' is not allowed: choose one of" in refused.text
    assert all(preset in refused.text for preset in STYLE_PRESETS)
    assert made.status == "success" and made.artifact["style_preset"] == "analog-film"
    assert balance.status == "success" and balance.text.startswith("Milady Cloud credit balance: ")
    assert messages[-1].text == FINAL


async def test_vision_blocks_travel_through_the_agent(kind_sync_async: str, server: LocalServer) -> None:
    toolkit, tools = image_tools(server, include_image_blocks=True)
    try:
        messages = await run_agent(kind_sync_async, [tool_call_turn(prompt="a lighthouse"), AIMessage(FINAL)], tools)
    finally:
        await toolkit.aclose()
    result = messages[2]
    assert isinstance(result, ToolMessage)
    assert [block["type"] for block in result.content_blocks] == ["text", "image"]
    assert result.content_blocks[1]["url"] == result.artifact["urls"][0]
