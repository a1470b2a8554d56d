"""Connection settings shared by the tools and the toolkit, as pydantic fields."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
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
from milady_integrations._config import RECOVER_FOR
from milady_integrations.access import RUN_CONFIG_KEY, KeyChoice, KeyPolicy, fit_key_hint

from ._clients import ClientPool


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
    allow_unlisted_models: bool = Field(
        False, description="Accept model ids newer than this library's list."
    )
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

    _pool: ClientPool | None = PrivateAttr(default=None)

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": API_KEY_ENV}

    def _client_options(self) -> dict[str, Any]:
        return {
            # An agent's call that may have run is found in the gallery, never re-sent blindly;
            # an unavailable model is named in the result. client_kwargs may change both.
            "recover_for": RECOVER_FOR,
            "check_models": True,
            **self.client_kwargs,
            "api_key": self.api_key.get_secret_value() if self.api_key is not None else None,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "allow_unlisted_models": self.allow_unlisted_models,
        }

    @property
    def clients(self) -> ClientPool:
        """The clients in use: those passed in, else made lazily on first call."""
        if self._pool is None:
            self._pool = ClientPool(self._client_options, self.client, self.async_client)
        return self._pool

    def _run_key(self, config: RunnableConfig | None) -> KeyChoice | None:
        """This run's own key, when ``config["configurable"]["milady_api_key"]`` carries one.

        Decided by the core's key mechanism, as every face does; a run without one uses the
        tool's configured key.
        """
        run_key = ((config or {}).get("configurable") or {}).get(RUN_CONFIG_KEY)
        return KeyPolicy(how="run_config").choose(str(run_key)) if run_key else None

    @staticmethod
    def _keyed(client: Any, choice: KeyChoice | None) -> Any:
        # Same connection pool, another key.
        return client if choice is None else client.with_options(api_key=choice.api_key)

    @staticmethod
    def _explain(err: MiladyError, choice: KeyChoice | None) -> MiladyError:
        return fit_key_hint(err, "run_config") if choice is not None else err

    def close(self) -> None:
        """Close the sync client this object made (no-op for clients passed in)."""
        if self._pool is not None:
            self._pool.close()

    async def aclose(self) -> None:
        """Close every client this object made (no-op for clients passed in)."""
        if self._pool is not None:
            await self._pool.aclose()
