"""The langchain-tests standard suites, the integration ones against the local server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import pytest
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_tool import MiladyCreditsTool, MiladyImageGenerationTool
from milady_integrations.local import LocalServer

# Nothing listens here: unit suites never send a request.
OFFLINE = {"api_key": "unit-test-key", "base_url": "http://127.0.0.1:9"}
EXAMPLE_ARGS = {"prompt": "a lighthouse at dusk", "style_preset": "cinematic", "aspect_ratio": "16:9"}


class _OnLocalServer:
    """Reads the session server's address when the suite asks for constructor params."""

    endpoint: ClassVar[dict[str, Any]] = {}

    @pytest.fixture(autouse=True)
    def _endpoint(self, server: LocalServer) -> Iterator[None]:
        type(self).endpoint = {"api_key": server.api_key, "base_url": server.base_url}
        yield

    @pytest.fixture
    async def tool(self) -> AsyncIterator[BaseTool]:
        """The suite's own fixture, plus closing the clients the tool made (no leaked sockets)."""
        made = self.tool_constructor(**self.tool_constructor_params)  # type: ignore[attr-defined]
        yield made
        await made.aclose()


class TestImageToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[MiladyImageGenerationTool]:
        return MiladyImageGenerationTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return dict(OFFLINE)

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return dict(EXAMPLE_ARGS)

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        env = {"MILADY_API_KEY": "env-key", "MILADY_BASE_URL": "http://127.0.0.1:9"}
        return env, {}, {"api_key": "env-key", "base_url": "http://127.0.0.1:9"}


class TestImageToolIntegration(_OnLocalServer, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[MiladyImageGenerationTool]:
        return MiladyImageGenerationTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return dict(self.endpoint)

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return dict(EXAMPLE_ARGS)


class TestImageBlocksToolIntegration(TestImageToolIntegration):
    """The same suite with image content blocks switched on."""

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {**self.endpoint, "include_image_blocks": True}


class TestCreditsToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[MiladyCreditsTool]:
        return MiladyCreditsTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return dict(OFFLINE)

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return {"MILADY_API_KEY": "env-key"}, {}, {"api_key": "env-key"}


class TestCreditsToolIntegration(_OnLocalServer, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[MiladyCreditsTool]:
        return MiladyCreditsTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return dict(self.endpoint)
