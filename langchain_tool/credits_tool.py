"""MiladyCreditsTool: lets an agent check the credit balance before (or after) spending it."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import ArgsSchema, BaseTool

from milady_integrations import AsyncMiladyClient
from milady_integrations.calls import balance_reply

from ._args import CreditsBalanceInput, format_validation_error
from ._config import MiladySettings

__all__ = ["MiladyCreditsTool"]


class MiladyCreditsTool(MiladySettings, BaseTool):
    """The account's Milady Cloud credit balance, for the model to read."""

    name: str = "milady_credits_balance"
    description: str = (
        "Check how many Milady Cloud credits the account has left. Use it before generating "
        "many images, or after an image generation failed for lack of credits."
    )
    args_schema: ArgsSchema | None = CreditsBalanceInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: Any = True
    handle_validation_error: Any = format_validation_error

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, *, config: RunnableConfig
    ) -> tuple[str, dict[str, Any]]:
        return balance_reply(self._sync_call(config, lambda client: client.credits_balance()))

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, *, config: RunnableConfig
    ) -> tuple[str, dict[str, Any]]:
        async def balance(client: AsyncMiladyClient) -> float:
            return await client.credits_balance()

        return balance_reply(await self._async_call(config, lambda client: client.credits_balance(), balance))
