"""Fuzzing runs shared by the bounded CI tests (test_fuzz.py) and the long run (scripts/fuzz_long.py).

Each run returns figures (examples run, failures, seconds). A property failure is
raised by hypothesis with its shrunk example, so a test fails on it; the long run
catches it and reports it.
"""

from __future__ import annotations

import contextlib
import json
import string
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from milady_integrations.errors import (
    InvalidRequestError,
    MiladyError,
    RateLimitError,
    UnexpectedResponseError,
    error_from_response,
)
from milady_integrations.local import LocalServer
from milady_integrations.local._bodies import Refused, validate_generate
from milady_integrations.schema import (
    ASPECT_RATIOS,
    MODELS,
    STYLE_PRESETS,
    GenerateImageRequest,
    ImageGenerationResult,
    parse_generation_body,
)

FIELDS = ("prompt", "model", "aspect_ratio", "num_images", "style_preset", "source_image")


@dataclass
class Figures:
    """What one fuzzing run did."""

    name: str
    examples: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        seen = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return f"{self.name}: {self.examples} examples, {len(self.failures)} failures, {self.seconds:.1f} s" + (
            f" ({seen})" if seen else ""
        )


def fuzz_settings(max_examples: int) -> settings:
    """Bounded and repeatable: no example database, derandomized, no deadline."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )


# ---------------------------------------------------------------- schemathesis on the local server


def _documented_server_error(response: httpx.Response | Any, body: object) -> bool:
    """The 5xx answers the service itself gives (see server-behaviour.md); anything else is a bug.

    500 ``No images were generated`` when the model cannot read the source image, and
    500 with the parser's message for a body that is not a JSON object (null, not JSON).
    """
    if response.status_code != 500:
        return False
    try:
        data = response.json()
    except ValueError:
        return False
    if not isinstance(data, dict) or not isinstance(data.get("error"), str):
        return False
    if isinstance(body, dict):
        return data["error"] == "No images were generated" and isinstance(body.get("sourceImage"), str)
    return True


def fuzz_openapi(server: LocalServer, max_examples: int, *, fail_fast: bool = True) -> Figures:
    """schemathesis against ``GET /openapi.json``: positive and negative cases for every operation.

    Checks: every schemathesis check except two replaced here. ``not_a_server_error``
    becomes "only the service's documented 500s, never billed"; ``negative_data_rejection``
    is dropped because the service (and so the contract) does not refuse unknown
    model/aspectRatio/stylePreset values or ``fresh`` flags (tests/hardening/test_bad_input.py
    covers what it does refuse). The server must use ``api_keys`` so bad keys are refused.
    """
    import schemathesis
    from hypothesis.errors import Unsatisfiable
    from schemathesis.generation import GenerationMode

    figures = Figures("schemathesis")
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # Nothing to make invalid in a free-form path parameter: hypothesis finds no example.
            with contextlib.suppress(Unsatisfiable):
                _operation_run(server, operation, mode, figures, max_examples, fail_fast)()
    figures.seconds = time.monotonic() - started
    return figures


def _operation_run(
    server: LocalServer, operation: Any, mode: Any, figures: Figures, max_examples: int, fail_fast: bool
) -> Any:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import negative_data_rejection

    auth = {"Authorization": f"Bearer {server.api_key}"}

    @fuzz_settings(max_examples)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        billed_before = server.stats.images_billed
        response = case.call(base_url=server.base_url, headers=auth, timeout=30)
        figures.examples += 1
        figures.statuses[str(response.status_code)] += 1
        problems: list[str] = []
        try:
            case.validate_response(response, excluded_checks=[not_a_server_error, negative_data_rejection])
        except Exception as exc:  # schemathesis reports every failed check in one group
            problems.append(str(exc).split("\n\n")[1] if "\n\n" in str(exc) else str(exc))
        if response.status_code >= 500:
            if not _documented_server_error(response, case.body):
                problems.append(f"undocumented {response.status_code}: {response.text[:200]}")
            elif server.stats.images_billed != billed_before:
                problems.append("a 500 was billed")
        if problems:
            text = f"{operation.label} ({mode.value}): " + "; ".join(problems)
            figures.failures.append(text)
            if fail_fast:
                raise AssertionError(text + f"\nrequest: {case.as_curl_command()}")

    return run


# ---------------------------------------------------------------- the request schema

_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _mostly(valid: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid nine times in ten, so whole requests are often valid and each field is often not."""
    return st.integers(0, 9).flatmap(lambda n: valid if n else other)


def _tiny_png() -> str:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (9, 99, 199)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


_PROMPTS = _mostly(
    st.text(min_size=1, max_size=60),
    st.one_of(
        st.text(alphabet=st.sampled_from(" \t\n\r\v\f\u00a0\u2028\u3000\ufeff\x1c\x85"), max_size=8),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=3990, max_size=4010),
        st.text(alphabet=st.sampled_from("🦊a"), min_size=1990, max_size=4010),
        _ANY,
    ),
)


def _choice(values: tuple[str, ...]) -> st.SearchStrategy[object]:
    return _mostly(st.sampled_from(values), st.one_of(_ANY, st.sampled_from([v.upper() + " " for v in values])))


_SOURCES = _mostly(
    st.one_of(st.none(), st.just(_tiny_png())),
    st.one_of(
        st.just("data:image/png;base64,iVBORw0KGgo="),
        st.builds(lambda t: "data:image/png;base64," + t, st.text(string.ascii_letters + "+/=", max_size=30)),
        st.binary(max_size=40),
        _ANY,
    ),
)


def fuzz_request_schema(max_examples: int) -> Figures:
    """GenerateImageRequest.create: refuses with an InvalidRequestError naming the field, or builds
    a request whose wire body the service's own validation accepts unchanged (strict models)."""
    figures = Figures("GenerateImageRequest.create")
    started = time.monotonic()

    @fuzz_settings(max_examples)
    @given(
        prompt=_PROMPTS,
        model=_choice(MODELS),
        aspect_ratio=_choice(ASPECT_RATIOS),
        num_images=_mostly(st.integers(1, 4), st.one_of(st.integers(-2, 7), st.floats(0, 5), _ANY)),
        style_preset=_choice(STYLE_PRESETS),
        source_image=_SOURCES,
    )
    def run(**arguments: Any) -> None:
        figures.examples += 1
        try:
            request = GenerateImageRequest.create(**arguments)
        except InvalidRequestError as err:
            figures.statuses["refused"] += 1
            assert err.field in FIELDS, err.field
            assert err.field in str(err), str(err)
            return
        figures.statuses["accepted"] += 1
        wire = json.loads(json.dumps(request.to_wire()))
        try:
            call = validate_generate(wire, variant=True)
        except Refused as refused:
            raise AssertionError(f"accepted by the client, refused by the service: {refused.body}") from None
        assert (call.prompt, call.num_images, call.model) == (request.prompt, request.num_images, request.model)
        assert (call.aspect_ratio, call.style_preset) == (request.aspect_ratio, request.style_preset)
        assert "undefined" not in call.enhanced.replace(request.prompt, "")
        again = GenerateImageRequest.create(
            wire["prompt"],
            model=wire["model"],
            aspect_ratio=wire["aspectRatio"],
            num_images=wire["numImages"],
            style_preset=wire["stylePreset"],
            source_image=wire.get("sourceImage"),
        )
        assert again.to_wire() == wire

    run()
    figures.seconds = time.monotonic() - started
    return figures


# ---------------------------------------------------------------- the response parser and error table

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
_ITEM = st.fixed_dictionaries(
    {},
    optional={
        "url": st.one_of(st.just("https://cdn.example/x.webp"), _JSON),
        "image": st.one_of(st.just("data:image/png;base64,AAAA"), st.just("AAAA"), _JSON),
        "text": _JSON,
        "mimeType": st.one_of(st.just("image/webp"), _JSON),
        "fileSize": _JSON,
    },
)
_BODIES = st.one_of(
    _JSON,
    st.fixed_dictionaries(
        {"images": st.lists(st.one_of(_ITEM, _JSON), max_size=5)},
        optional={"numImages": _JSON, "model": _JSON, "cost": _JSON, "success": _JSON},
    ),
)


def fuzz_response_parser(max_examples: int) -> Figures:
    """parse_generation_body: a result or UnexpectedResponseError, never anything else."""
    figures = Figures("parse_generation_body")
    started = time.monotonic()

    @fuzz_settings(max_examples)
    @given(body=_BODIES, requested=st.integers(1, 4))
    def run(body: object, requested: int) -> None:
        figures.examples += 1
        try:
            result = parse_generation_body(body, requested=requested, model="m", request_id="r")
        except UnexpectedResponseError as err:
            figures.statuses["refused"] += 1
            assert str(err)
            return
        figures.statuses["parsed"] += 1
        assert isinstance(result, ImageGenerationResult)
        items = body["images"] if isinstance(body, dict) else []
        assert result.returned <= len(items)
        for image in result.images:
            assert image.url or (image.data_url and image.data_url.startswith("data:"))
            assert isinstance(image.text, str)
        assert result.cost is None or isinstance(result.cost, float)
        assert result.model is None or isinstance(result.model, str)

    run()
    figures.seconds = time.monotonic() - started
    return figures


_HEADER_TEXT = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    st.integers(-5, 10**6).map(str),
    st.just("Wed, 21 Oct 2015 07:28:00 GMT"),
)
_HEADERS = st.dictionaries(
    st.sampled_from(["retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-request-id"]),
    _HEADER_TEXT,
    max_size=5,
)
_RAW_BODIES = st.one_of(
    st.binary(max_size=200),
    _JSON.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"error": _JSON}, optional={"message": _JSON, "required": _JSON, "retryAfter": _JSON, "supportedModels": _JSON}
    ).map(lambda v: json.dumps(v).encode()),
    st.text(max_size=100).map(lambda t: f"<html><title>{t}</title><body>{t}</body></html>".encode()),
)


def fuzz_error_table(max_examples: int) -> Figures:
    """error_from_response: one MiladyError for any status, headers and body; its text is readable."""
    figures = Figures("error_from_response")
    started = time.monotonic()

    @fuzz_settings(max_examples)
    @given(
        status=st.one_of(st.sampled_from([400, 401, 402, 403, 422, 429, 500, 502, 503, 504]), st.integers(300, 599)),
        headers=_HEADERS,
        body=_RAW_BODIES,
    )
    def run(status: int, headers: dict[str, str], body: bytes) -> None:
        figures.examples += 1
        error = error_from_response(status, httpx.Headers(headers), body, request_id="req_1")
        figures.statuses[type(error).__name__] += 1
        assert isinstance(error, MiladyError) and error.status_code == status
        text = str(error)
        assert text and "req_1" in text and "<html" not in text.lower()
        repr(error)
        if status == 429:
            assert isinstance(error, RateLimitError)
            assert error.retry_after is None or error.retry_after >= 0

    run()
    figures.seconds = time.monotonic() - started
    return figures
