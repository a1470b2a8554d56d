"""The tools: ``generate_image``, ``milady_credits_balance``, and the toolkit that configures both once."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import ArgsSchema, BaseTool, BaseToolkit
from pydantic import Field

from milady_integrations import AsyncMiladyClient, ImageGenerationResult, MiladyClient
from milady_integrations.calls import agent_reply, agent_request, agent_request_sync, balance_reply, image_parts
from milady_integrations.wording import GENERATE_TOOL_DESCRIPTION

from ._args import CreditsBalanceInput, GenerateImageInput, GenerateImageInputAnyModel, format_validation_error
from ._config import MiladySettings

__all__ = ["MiladyCreditsTool", "MiladyImageGenerationTool", "MiladyToolkit"]

Content = str | list[dict[str, Any]]


class _MiladyTool(MiladySettings, BaseTool):
    """What both tools share: the artifact beside the content, and errors the model reads and can act on."""

    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: Any = True
    handle_validation_error: Any = format_validation_error


class MiladyImageGenerationTool(_MiladyTool):
    """Generate images with Milady Cloud from an agent.

    The model reads a short text (how many images of how many, their URLs, the service's
    text); the application gets the full result as the ToolMessage's ``artifact``.
    Service errors and bad arguments come back to the model as error ToolMessages.
    """

    name: str = "generate_image"
    description: str = GENERATE_TOOL_DESCRIPTION
    args_schema: ArgsSchema | None = GenerateImageInput
    include_image_blocks: bool = Field(
        False, description="Content as standard text and image blocks, for models that see images in tool results."
    )

    def __init__(self, **kwargs: Any) -> None:
        # Any model id must pass the argument schema too, not only the client.
        if kwargs.get("allow_unlisted_models") and "args_schema" not in kwargs:
            kwargs["args_schema"] = GenerateImageInputAnyModel
        super().__init__(**kwargs)

    def _reply(self, result: ImageGenerationResult, arguments: dict[str, Any]) -> tuple[Content, dict[str, Any]]:
        text, artifact = agent_reply(result, arguments)
        if not self.include_image_blocks:
            return text, artifact
        # Standard content blocks for vision models: the text, then one image block per image.
        return [{"type": "text", "text": text}, *({"type": "image", **p} for p in image_parts(result))], artifact

    def _options(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return {**arguments, "allow_unlisted_model": True} if self.allow_unlisted_models else arguments

    # Never a file path from a model: only web URLs (downloaded, checked) and data URLs.
    def _generate(self, client: MiladyClient, arguments: dict[str, Any]) -> ImageGenerationResult:
        return client.send(agent_request_sync(client, self._options(arguments), allow_paths=False))

    async def _agenerate(self, client: AsyncMiladyClient, arguments: dict[str, Any]) -> ImageGenerationResult:
        return await client.send(await agent_request(client, self._options(arguments), allow_paths=False))

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, *, config: RunnableConfig, **arguments: Any
    ) -> tuple[Content, dict[str, Any]]:
        return self._reply(self._sync_call(config, lambda client: self._generate(client, arguments)), arguments)

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, *, config: RunnableConfig, **arguments: Any
    ) -> tuple[Content, dict[str, Any]]:
        result = await self._async_call(
            config, lambda client: self._generate(client, arguments), lambda client: self._agenerate(client, arguments)
        )
        return self._reply(result, arguments)


class MiladyCreditsTool(_MiladyTool):
    """The account's Milady Cloud credit balance, for the model to read."""

    name: str = "milady_credits_balance"
    description: str = (
        "Check how many Milady Cloud credits the account has left. Use it before generating "
        "many images, or after an image generation failed for lack of credits."
    )
    args_schema: ArgsSchema | None = CreditsBalanceInput

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, *, config: RunnableConfig
    ) -> tuple[str, dict[str, Any]]:
        return balance_reply(self._sync_call(config, lambda client: client.credits_balance()))

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, *, config: RunnableConfig
    ) -> tuple[str, dict[str, Any]]:
        balance = await self._async_call(
            config, lambda client: client.credits_balance(), lambda client: client.credits_balance()
        )
        return balance_reply(balance)


#: What the toolkit passes on to both tools.
_SHARED = ("api_key", "base_url", "max_retries", "timeout", "allow_unlisted_models", "client_kwargs")


class MiladyToolkit(MiladySettings, BaseToolkit):
    """``MiladyToolkit().get_tools()`` -> [generate_image, milady_credits_balance]."""

    include_image_blocks: bool = Field(False, description="Passed to the image tool.")

    def get_tools(self) -> list[BaseTool]:
        settings = {name: getattr(self, name) for name in _SHARED}
        image = MiladyImageGenerationTool(include_image_blocks=self.include_image_blocks, **settings)
        credits = MiladyCreditsTool(**settings)
        for tool in (image, credits):
            tool._pool = self.clients  # one connection pool for both tools
        return [image, credits]
