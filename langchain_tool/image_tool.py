"""MiladyImageGenerationTool: an agent asks for images with a prompt, a style preset and a ratio."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import run_in_executor
from langchain_core.tools import ArgsSchema, BaseTool
from pydantic import Field

from milady_integrations import AsyncMiladyClient, MiladyClient, MiladyError
from milady_integrations.schema import (
    ASPECT_RATIO_DESCRIPTIONS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    STYLE_PRESET_DESCRIPTIONS,
    ImageGenerationResult,
)

from ._args import GenerateImageInput, GenerateImageInputAnyModel
from ._config import MiladySettings
from ._result import image_blocks, result_artifact, result_text
from ._source import aread_source, read_source
from .errors import format_validation_error, to_tool_exception

__all__ = ["DESCRIPTION", "MiladyImageGenerationTool"]

DESCRIPTION = (
    "Generate images from a text description (text-to-image), or a new image from a source image "
    "(image-to-image), and get back their URLs. Use it whenever the user asks for a picture, photo, "
    "illustration, drawing, logo, icon or any other visual. Write a detailed prompt: subject, "
    "setting, lighting, composition. style_preset adds style words to the prompt: "
    + "; ".join(f"{k} = {v.lower()}" for k, v in STYLE_PRESET_DESCRIPTIONS.items())
    + ". aspect_ratio sets the image's shape: "
    + "; ".join(f"{k} = {v.lower()}" for k, v in ASPECT_RATIO_DESCRIPTIONS.items())
    + f". {NUM_IMAGES_MIN} to {NUM_IMAGES_MAX} images per call, each billed: ask for more than one "
    "only when the user wants options. The answer lists each image's URL; show them to the user."
)

Content = str | list[dict[str, Any]]


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

    def _reply(
        self, result: ImageGenerationResult, prompt: str, style_preset: str, aspect_ratio: str
    ) -> tuple[Content, dict[str, Any]]:
        text = result_text(result, style_preset=style_preset, aspect_ratio=aspect_ratio)
        artifact = result_artifact(
            result, prompt=prompt, style_preset=style_preset, aspect_ratio=aspect_ratio
        )
        return (image_blocks(result, text) if self.include_image_blocks else text), artifact

    def _options(self, model: str, num_images: int) -> dict[str, Any]:
        return {
            "model": model,
            "num_images": num_images,
            # None leaves the decision to the client's own setting (a client passed in).
            "allow_unlisted_model": True if self.allow_unlisted_models else None,
            # A large source image is shrunk to the service's limit rather than refused.
            "downscale_source": True,
        }

    def _generate(
        self,
        client: MiladyClient,
        prompt: str,
        style_preset: str,
        aspect_ratio: str,
        model: str,
        num_images: int,
        source_image: str | None,
        config: RunnableConfig | None = None,
    ) -> tuple[Content, dict[str, Any]]:
        choice = None
        try:
            choice = self._run_key(config)
            client = self._keyed(client, choice)
            source = read_source(client, source_image)
            result = client.generate_image(
                prompt,
                style_preset=style_preset,
                aspect_ratio=aspect_ratio,
                source_image=source,
                **self._options(model, num_images),
            )
        except MiladyError as err:
            raise to_tool_exception(self._explain(err, choice)) from err
        return self._reply(result, prompt, style_preset, aspect_ratio)

    def _run(
        self,
        prompt: str,
        style_preset: str = DEFAULT_STYLE_PRESET,
        aspect_ratio: str = DEFAULT_ASPECT_RATIO,
        model: str = DEFAULT_MODEL,
        num_images: int = DEFAULT_NUM_IMAGES,
        source_image: str | None = None,
        run_manager: CallbackManagerForToolRun | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[Content, dict[str, Any]]:
        if self.clients.only_async_given:
            raise RuntimeError(
                "This tool was given only async_client: call it with ainvoke, or pass client= too"
            )
        return self._generate(
            self.clients.sync(), prompt, style_preset, aspect_ratio, model, num_images, source_image, config
        )

    async def _arun(
        self,
        prompt: str,
        style_preset: str = DEFAULT_STYLE_PRESET,
        aspect_ratio: str = DEFAULT_ASPECT_RATIO,
        model: str = DEFAULT_MODEL,
        num_images: int = DEFAULT_NUM_IMAGES,
        source_image: str | None = None,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[Content, dict[str, Any]]:
        args = (prompt, style_preset, aspect_ratio, model, num_images, source_image, config)
        if self.clients.only_sync_given:
            # Only a sync client was handed to us: run it off the event loop.
            return await run_in_executor(None, self._generate, self.clients.sync(), *args)
        choice = None
        try:
            choice = self._run_key(config)
            client: AsyncMiladyClient = self._keyed(self.clients.async_(), choice)
            source = await aread_source(client, source_image)
            result = await client.generate_image(
                prompt,
                style_preset=style_preset,
                aspect_ratio=aspect_ratio,
                source_image=source,
                **self._options(model, num_images),
            )
        except MiladyError as err:
            raise to_tool_exception(self._explain(err, choice)) from err
        return self._reply(result, prompt, style_preset, aspect_ratio)
