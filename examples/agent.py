"""An agent that draws: a chat model calls the ``generate_image`` tool.

    python examples/agent.py "a lighthouse at dusk" --style cinematic --ratio 16:9 --save out/

Offline by default: with no MILADY_API_KEY a local Milady-compatible server draws the
images, and a scripted stand-in model plays the agent (it always calls the tool once).
That server runs inside this script, so its image URLs stop working when the script ends:
``--save DIR`` keeps the images as files.
Set MILADY_AGENT_MODEL to use a real chat model instead, e.g. ``openai:gpt-4.1-mini``
or ``anthropic:claude-sonnet-4-5`` (its provider package and key must be installed/set).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from langchain_tool import MiladyImageGenerationTool
from milady_integrations import GeneratedImage, MiladyClient
from milady_integrations.images import write_image
from milady_integrations.offline import service_or_local

MODEL_ENV = "MILADY_AGENT_MODEL"
TEMPORARY_URLS_NOTE_EXAMPLE = (
    "These URLs were served by the built-in local server, which stopped when this example ended: "
    "they no longer work."
)
SYSTEM_PROMPT = (
    "You make images for the user with the generate_image tool. Pick a style_preset and an "
    "aspect_ratio that suit the request, then give the user the image URLs."
)


class ScriptedImageModel(BaseChatModel):
    """Offline stand-in for a chat model: one generate_image call, then a short answer."""

    style_preset: str = "digital-art"
    aspect_ratio: str = "1:1"

    @property
    def _llm_type(self) -> str:
        return "scripted-offline"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedImageModel:
        return self

    def _generate(self, messages: list[BaseMessage], stop: Any = None, **kwargs: Any) -> ChatResult:
        last = messages[-1]
        if isinstance(last, ToolMessage):
            if last.status == "error":
                reply = AIMessage(f"I could not make the image: {last.text}")
            else:
                reply = AIMessage(f"Here you are.\n{last.text}")
        else:
            request = last.text if isinstance(last, HumanMessage) else "an image"
            args = {"prompt": request, "style_preset": self.style_preset, "aspect_ratio": self.aspect_ratio}
            reply = AIMessage("", tool_calls=[{"name": "generate_image", "args": args, "id": "call_1"}])
        return ChatResult(generations=[ChatGeneration(message=reply)])


def chat_model(style_preset: str, aspect_ratio: str) -> BaseChatModel:
    name = os.environ.get(MODEL_ENV)
    if not name:
        return ScriptedImageModel(style_preset=style_preset, aspect_ratio=aspect_ratio)
    from langchain.chat_models import init_chat_model

    return init_chat_model(name)


def show(message: BaseMessage) -> None:
    if isinstance(message, AIMessage) and message.tool_calls:
        for call in message.tool_calls:
            print(f"[model] calls {call['name']}({call['args']})")
    elif isinstance(message, ToolMessage):
        print(f"[tool:{message.status}] {message.text}")
        if message.artifact:
            for image in message.artifact["images"]:
                where = image["url"] or f"inline {image['mime_type']}"
                print(f"[artifact] {where} {image['mime_type']} {image['file_size']} bytes")
    elif isinstance(message, AIMessage):
        print(f"[model] {message.text}")


def save_images(messages: list[BaseMessage], folder: Path, api_key: str | None, base_url: str | None) -> list[Path]:
    """Download every image the tool returned into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with MiladyClient(api_key=api_key, base_url=base_url) as client:
        for message in messages:
            if isinstance(message, ToolMessage) and message.artifact:
                for image in message.artifact["images"]:
                    data = client.read_image(GeneratedImage(url=image["url"], data_url=image.get("data_url")))
                    paths.append(write_image(folder / f"agent-image-{len(paths) + 1}", data))
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("request", nargs="?", default="a lighthouse on a cliff at dusk")
    parser.add_argument("--style", default="digital-art", help="style preset the offline model picks")
    parser.add_argument("--ratio", default="16:9", help="aspect ratio the offline model picks")
    parser.add_argument("--save", metavar="DIR", help="save the images in DIR (made if missing)")
    args = parser.parse_args(argv)

    saved: list[Path] = []
    with service_or_local() as endpoint:
        if endpoint.banner:
            print(endpoint.banner)
        tool = MiladyImageGenerationTool(api_key=endpoint.api_key, base_url=endpoint.base_url)
        try:
            agent = create_agent(chat_model(args.style, args.ratio), [tool], system_prompt=SYSTEM_PROMPT)
            state = agent.invoke({"messages": [HumanMessage(args.request)]})
        finally:
            tool.close()
        if args.save:
            # While the server still runs: a local server's URLs end with it.
            saved = save_images(state["messages"], Path(args.save), endpoint.api_key, endpoint.base_url)
    for message in state["messages"][1:]:
        show(message)
    for path in saved:
        print(f"[saved] {path}")
    if endpoint.local:
        keep = f"The images are saved in {args.save}." if args.save else "Pass --save DIR to keep the images."
        print(f"[note] {TEMPORARY_URLS_NOTE_EXAMPLE} {keep}")
    last = state["messages"][-1]
    return 0 if isinstance(last, AIMessage) and not last.tool_calls else 1


if __name__ == "__main__":
    sys.exit(main())
