"""MiladyImageGenerationTool: an agent asks for images with a prompt, a style preset and a ratio."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import ArgsSchema, BaseTool
from pydantic import Field

from milady_integrations import AsyncMiladyClient, ImageGenerationResult, MiladyClient
from milady_integrations.calls import agent_reply, agent_request, agent_request_sync
from milady_integrations.images import decode_data_url
from milady_integrations.wording import GENERATE_TOOL_DESCRIPTION

from ._args import GenerateImageInput, GenerateImageInputAnyModel, format_validation_error
from ._config import MiladySettings

__all__ = ["DESCRIPTION", "MiladyImageGenerationTool"]

DESCRIPTION = GENERATE_TOOL_DESCRIPTION

Content = str | list[dict[str, Any]]


def image_blocks(result: ImageGenerationResult, text: str) -> list[dict[str, Any]]:
    """Standard content blocks for vision models: the text, then one image block per image."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for image in result.images:
        if image.url:
            blocks.append(
                {"type": "image", "url": image.url, **({"mime_type": image.mime_type} if image.mime_type else {})}
            )
        elif image.data_url:
            mime, _ = decode_data_url(image.data_url)
            blocks.append({"type": "image", "base64": image.data_url.partition(",")[2], "mime_type": mime})
    return blocks


class MiladyImageGenerationTool(MiladySettings, BaseTool):
    """Generate images with Milady Cloud from an agent.

    The model reads a short text (how many images of how many, their URLs, the service's
    text); the application gets the full result as the ToolMessage's ``artifact``.
    Service errors and bad arguments come back to the model as error ToolMessages.

    ``MiladyImageGenerationTool()`` reads MILADY_API_KEY; pass ``api_key=``, ``base_url=``,
    or ready ``client=`` / ``async_client=`` instances to configure it.
    """

    name: str = "generate_image"
    description: str = DESCRIPTION
    args_schema: ArgsSchema | None = GenerateImageInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: Any = True
    handle_validation_error: Any = format_validation_error
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
        return (image_blocks(result, text) if self.include_image_blocks else text), artifact

    def _generate(self, client: MiladyClient, options: dict[str, Any]) -> ImageGenerationResult:
        # Never a file path from a model: only web URLs (downloaded, checked) and data URLs.
        return client.send(agent_request_sync(client, options, allow_paths=False))

    def _options(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return {**arguments, "allow_unlisted_model": True} if self.allow_unlisted_models else arguments

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, *, config: RunnableConfig, **arguments: Any
    ) -> tuple[Content, dict[str, Any]]:
        result = self._sync_call(config, lambda client: self._generate(client, self._options(arguments)))
        return self._reply(result, arguments)

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, *, config: RunnableConfig, **arguments: Any
    ) -> tuple[Content, dict[str, Any]]:
        async def generate(client: AsyncMiladyClient) -> ImageGenerationResult:
            return await client.send(await agent_request(client, self._options(arguments), allow_paths=False))

        result = await self._async_call(
            config, lambda client: self._generate(client, self._options(arguments)), generate
        )
        return self._reply(result, arguments)
