"""MiladyCreditsTool: lets an agent check the credit balance before (or after) spending it."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import run_in_executor
from langchain_core.tools import ArgsSchema, BaseTool

from milady_integrations import MiladyError

from ._args import CreditsBalanceInput
from ._config import MiladySettings
from .errors import format_validation_error, to_tool_exception

__all__ = ["MiladyCreditsTool"]


def _reply(balance: float) -> tuple[str, dict[str, Any]]:
    return f"Milady Cloud credit balance: {balance:g} credits.", {"balance": balance}


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

    def _balance(self, config: RunnableConfig | None = None) -> tuple[str, dict[str, Any]]:
        choice = None
        try:
            choice = self._run_key(config)
            return _reply(self._keyed(self.clients.sync(), choice).credits_balance())
        except MiladyError as err:
            raise to_tool_exception(self._explain(err, choice)) from err

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, *, config: RunnableConfig
    ) -> tuple[str, dict[str, Any]]:
        if self.clients.only_async_given:
            raise RuntimeError(
                "This tool was given only async_client: call it with ainvoke, or pass client= too"
            )
        return self._balance(config)

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, *, config: RunnableConfig
    ) -> tuple[str, dict[str, Any]]:
        if self.clients.only_sync_given:
            return await run_in_executor(None, self._balance, config)
        choice = None
        try:
            choice = self._run_key(config)
            return _reply(await self._keyed(self.clients.async_(), choice).credits_balance())
        except MiladyError as err:
            raise to_tool_exception(self._explain(err, choice)) from err
