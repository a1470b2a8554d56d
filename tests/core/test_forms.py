"""A web form's source image: the generation uses what the form's check read, and never a stale copy."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from milady_integrations import AsyncMiladyClient
from milady_integrations.forms import form_errors, form_request
from milady_integrations.images import decode_data_url


def _colour_of(data_url: str | None) -> tuple[int, ...]:
    assert data_url is not None
    _, data = decode_data_url(data_url)
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").getpixel((0, 0))


def test_a_replaced_upload_is_read_again_not_taken_from_the_check(tmp_path: Path) -> None:
    client = AsyncMiladyClient("mk-test", base_url="http://127.0.0.1:9")  # builds requests only: nothing is sent
    upload = tmp_path / "photo.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(upload)
    values = {"prompt": "make it blue", "num_images": 1, "source_image": str(upload)}

    assert form_errors(values, uploads=tmp_path) == {}
    assert _colour_of(form_request(client, values, uploads=tmp_path).source_image) == (200, 30, 30)

    Image.new("RGB", (64, 50), (30, 30, 200)).save(upload)  # same path, another picture
    assert _colour_of(form_request(client, values, uploads=tmp_path).source_image) == (30, 30, 200)
