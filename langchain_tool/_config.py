"""Connection settings shared by the tools and the toolkit, as pydantic fields, and the clients they make."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import run_in_executor
from langchain_core.tools import ToolException
from langchain_core.utils import from_env, secret_from_env
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr

from milady_integrations import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    AsyncMiladyClient,
    MiladyClient,
    MiladyError,
)
from milady_integrations.access import RUN_CONFIG_KEY, KeyPolicy
from milady_integrations.calls import AGENT_OPTIONS, client_for, keyed_call
from milady_integrations.client_pair import ClientPair

T = TypeVar("T")
#: A run's own key (``config["configurable"]["milady_api_key"]``): the core's key mechanism decides.
RUN_KEYS = KeyPolicy(how="run_config")


def to_tool_exception(err: MiladyError) -> ToolException:
    """THE translation of a core error for LangChain: its one line, which the agent reads as an error ToolMessage."""
    return ToolException(str(err))


class MiladySettings(BaseModel):
    """Where and how to reach Milady Cloud; or ready clients to use instead."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    api_key: SecretStr | None = Field(
        default_factory=secret_from_env(API_KEY_ENV, default=None),
        description=f"Milady Cloud key; defaults to the {API_KEY_ENV} environment variable.",
    )
    base_url: str | None = Field(
        default_factory=from_env(BASE_URL_ENV, default=None),
        description=f"Service URL; defaults to {BASE_URL_ENV}, else {DEFAULT_BASE_URL}.",
    )
    max_retries: int = Field(DEFAULT_MAX_RETRIES, ge=0, description="Retries of failures that are safe to repeat.")
    timeout: float | None = Field(None, gt=0, description="Seconds to wait for the service.")
    allow_unlisted_models: bool = Field(False, description="Accept model ids newer than this library's list.")
    client_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        repr=False,
        exclude=True,
        description="Other MiladyClient options, e.g. max_download_bytes or default_headers.",
    )
    client: MiladyClient | None = Field(
        None, repr=False, exclude=True, description="A ready sync client (used as is, not closed)."
    )
    async_client: AsyncMiladyClient | None = Field(
        None, repr=False, exclude=True, description="A ready async client (used as is, not closed)."
    )

    _pool: ClientPair | None = PrivateAttr(default=None)

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": API_KEY_ENV}

    def _client_options(self) -> dict[str, Any]:
        return {
            **AGENT_OPTIONS,  # client_kwargs may change them
            **self.client_kwargs,
            "api_key": self.api_key.get_secret_value() if self.api_key is not None else None,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "allow_unlisted_models": self.allow_unlisted_models,
        }

    @property
    def clients(self) -> ClientPair:
        """The clients passed in, else ones made on first use (and closed by us); one pool per toolkit."""
        if self._pool is None:
            self._pool = ClientPair(self._client_options, self.client, self.async_client)
        return self._pool

    @contextmanager
    def _keyed(self, client: T, config: RunnableConfig | None) -> Iterator[T]:
        """``client``, with this run's own key when the run carries one; core errors as ToolException."""
        run_key = ((config or {}).get("configurable") or {}).get(RUN_CONFIG_KEY)
        try:
            if not run_key:
                yield client
                return
            with keyed_call(RUN_KEYS, str(run_key)) as choice:
                yield client_for(choice, cast(Any, client))  # same pool, another key
        except MiladyError as err:
            raise to_tool_exception(err) from err

    def _sync_call(self, config: RunnableConfig | None, work: Callable[[MiladyClient], T]) -> T:
        if self.clients.given_async is not None and self.clients.given is None:
            raise RuntimeError("This tool was given only async_client: call it with ainvoke, or pass client= too")
        with self._keyed(self.clients.sync(), config) as client:
            return work(client)

    async def _async_call(
        self,
        config: RunnableConfig | None,
        work: Callable[[MiladyClient], T],
        awork: Callable[[AsyncMiladyClient], Awaitable[T]],
    ) -> T:
        if self.clients.given is not None and self.clients.given_async is None:
            # Only a sync client was handed to us: run it off the event loop.
            return await run_in_executor(None, self._sync_call, config, work)
        with self._keyed(self.clients.async_(), config) as client:
            return await awork(client)

    def close(self) -> None:
        """Close the sync client this object made (no-op for clients passed in)."""
        self.clients.close()

    async def aclose(self) -> None:
        """Close every client this object made (no-op for clients passed in)."""
        await self.clients.aclose()
