"""Fixtures for the LangChain tool: tools bound to the session's local server, and a fake agent model."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from langchain_tool import MiladyImageGenerationTool
from milady_integrations.local import LocalServer


class ToolCallingFakeModel(GenericFakeChatModel):
    """GenericFakeChatModel that agents accept: binding tools changes nothing."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ToolCallingFakeModel:
        return self


def tool_call_turn(name: str = "generate_image", call_id: str = "call_1", **args: Any) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


def tool_call(args: dict[str, Any], name: str = "generate_image") -> dict[str, Any]:
    return {"type": "tool_call", "id": "call_1", "name": name, "args": args}


@pytest.fixture
async def make_tool(server: LocalServer) -> AsyncIterator[Callable[..., Any]]:
    """Build a tool of any class against the local server; its clients are closed after the test."""
    made: list[Any] = []

    def build(cls: type = MiladyImageGenerationTool, **options: Any) -> Any:
        options.setdefault("api_key", server.api_key)
        options.setdefault("base_url", server.base_url)
        made.append(cls(**options))
        return made[-1]

    yield build
    for tool in made:
        result = tool.aclose()
        if inspect.isawaitable(result):
            await result
