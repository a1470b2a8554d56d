"""MiladyImageGenerationTool: an agent asks for images with a prompt, a style preset and a ratio."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import run_in_executor
from langchain_core.tools import ArgsSchema, BaseTool
from pydantic import Field

from milady_integrations import ImageGenerationResult, MiladyError
from milady_integrations.images import decode_data_url
from milady_integrations.request import FIELDS
from milady_integrations.wording import GENERATE_TOOL_DESCRIPTION, agent_summary

from ._args import GenerateImageInput, GenerateImageInputAnyModel
from ._config import MiladySettings
from .errors import format_validation_error, to_tool_exception

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
        False,
        description="Content as standard text and image blocks, for models that see images in tool results.",
    )

    def __init__(self, **kwargs: Any) -> None:
        # Any model id must pass the argument schema too, not only the client.
        if kwargs.get("allow_unlisted_models") and "args_schema" not in kwargs:
            kwargs["args_schema"] = GenerateImageInputAnyModel
        super().__init__(**kwargs)

    def _reply(self, result: ImageGenerationResult, arguments: dict[str, Any]) -> tuple[Content, dict[str, Any]]:
        shown = {name: arguments.get(name, FIELDS[name].default) for name in ("style_preset", "aspect_ratio")}
        text = agent_summary(result, **shown)
        artifact = {**result.to_dict(), "prompt": arguments["prompt"], **shown}
        return (image_blocks(result, text) if self.include_image_blocks else text), artifact

    def _options(self, arguments: dict[str, Any]) -> dict[str, Any]:
        options = dict(arguments)
        # A large source image is shrunk to the service's limit rather than refused.
        options["downscale_source"] = True
        if self.allow_unlisted_models:
            options["allow_unlisted_model"] = True
        return options

    def _generate(self, arguments: dict[str, Any], config: RunnableConfig | None) -> tuple[Content, dict[str, Any]]:
        choice = None
        try:
            choice = self._run_key(config)
            client = self._keyed(self.clients.sync(), choice)
            # Never a file path from a model: only web URLs (downloaded, checked) and data URLs.
            source = client.read_source(arguments.get("source_image"), allow_paths=False)
            result = client.generate_image(**{**self._options(arguments), "source_image": source})
        except MiladyError as err:
            raise to_tool_exception(self._explain(err, choice)) from err
        return self._reply(result, arguments)

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, *, config: RunnableConfig, **arguments: Any
    ) -> tuple[Content, dict[str, Any]]:
        if self.clients.only_async_given:
            raise RuntimeError("This tool was given only async_client: call it with ainvoke, or pass client= too")
        return self._generate(arguments, config)

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, *, config: RunnableConfig, **arguments: Any
    ) -> tuple[Content, dict[str, Any]]:
        if self.clients.only_sync_given:
            # Only a sync client was handed to us: run it off the event loop.
            return await run_in_executor(None, self._generate, arguments, config)
        choice = None
        try:
            choice = self._run_key(config)
            client = self._keyed(self.clients.async_(), choice)
            source = await client.read_source(arguments.get("source_image"), allow_paths=False)
            result = await client.generate_image(**{**self._options(arguments), "source_image": source})
        except MiladyError as err:
            raise to_tool_exception(self._explain(err, choice)) from err
        return self._reply(result, arguments)
