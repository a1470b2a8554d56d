"""Draw the node pack's pictures from the local server's: the Registry icon and one thumbnail per example workflow.

Run by hand after changing a workflow (CI never runs it; it checks the files exist):

    .venv/bin/python scripts/make_pack_images.py

Each thumbnail is what the workflow's Milady node gives on the local server (its prompt,
model, ratio, preset and number of images, read from the workflow; for the gallery
workflow, the generation at its index after one generation), as ComfyUI's
template browser expects it: ``example_workflows/<workflow name>.jpg``. The icon is a
square crop of one such picture, written to ``docs/icon.png`` (``[tool.comfy].Icon``).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from PIL import Image

from milady_integrations import MiladyClient
from milady_integrations.local import LocalServer

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / "example_workflows"
ICON = ROOT / "docs" / "icon.png"
THUMBNAIL_WIDTH = 512
ICON_SIZE = 256
NODE = "MiladyGenerateImage"
GALLERY_NODE = "MiladyGallery"
#: What the gallery workflow finds there: the text-to-image example's generation.
GALLERY_SOURCE = WORKFLOWS / "milady_text_to_image.json"


def _node(workflow: Path, node_type: str) -> dict[str, object] | None:
    return next((n for n in json.loads(workflow.read_text())["nodes"] if n["type"] == node_type), None)


def node_inputs(workflow: Path) -> dict[str, object]:
    """The Milady node's widget values, by name (the order ComfyUI saves them in)."""
    node = _node(workflow, NODE)
    if node is None:
        raise SystemExit(f"{workflow.name} has no {NODE} node")
    prompt, model, aspect_ratio, style_preset, num_images = node["widgets_values"][:5]  # type: ignore[index]
    return {
        "prompt": prompt,
        "model": model,
        "aspect_ratio": aspect_ratio,
        "style_preset": style_preset,
        "num_images": num_images,
    }


def from_gallery(client: MiladyClient, workflow: Path) -> list[Image.Image]:
    """What the gallery node loads: generations made first, then the one at the node's index."""
    (index,) = _node(workflow, GALLERY_NODE)["widgets_values"][:1]  # type: ignore[index]
    for _ in range(index + 1):
        generate(client, node_inputs(GALLERY_SOURCE), None)
    item = client.gallery(limit=1, offset=index).items[0]
    return [Image.open(io.BytesIO(client.read_image(item.image))).convert("RGB")]


def generate(client: MiladyClient, inputs: dict[str, object], source: Image.Image | None) -> list[Image.Image]:
    result = client.generate_image(**inputs, source_image=source)  # type: ignore[arg-type]
    return [Image.open(io.BytesIO(client.read_image(image))).convert("RGB") for image in result.images]


def contact_sheet(pictures: list[Image.Image], width: int) -> Image.Image:
    """One picture, or a 2-column grid of several, scaled to ``width``."""
    columns = 1 if len(pictures) == 1 else 2
    rows = (len(pictures) + columns - 1) // columns
    cell_w, cell_h = pictures[0].size
    sheet = Image.new("RGB", (cell_w * columns, cell_h * rows), (16, 16, 20))
    for index, picture in enumerate(pictures):
        sheet.paste(picture.resize((cell_w, cell_h)), ((index % columns) * cell_w, (index // columns) * cell_h))
    height = round(sheet.height * width / sheet.width)
    return sheet.resize((width, height), Image.Resampling.LANCZOS)


def main() -> int:
    workflows = sorted(WORKFLOWS.glob("*.json"))
    with LocalServer() as server, MiladyClient(server.api_key, base_url=server.base_url) as client:
        first: Image.Image | None = None
        for workflow in workflows:
            if _node(workflow, GALLERY_NODE) is not None:
                pictures = from_gallery(client, workflow)
            else:
                inputs = node_inputs(workflow)
                # Image-to-image: the source is another local picture, as a user's LoadImage would give.
                source = None
                if "image_to_image" in workflow.stem:
                    source = generate(client, {**inputs, "prompt": "a harbour at noon", "num_images": 1}, None)[0]
                pictures = generate(client, inputs, source)
            first = first or pictures[0]
            thumbnail = contact_sheet(pictures, THUMBNAIL_WIDTH)
            target = workflow.with_suffix(".jpg")
            thumbnail.save(target, "JPEG", quality=85, optimize=True)
            print(f"wrote {target.relative_to(ROOT)} {thumbnail.size}")
    assert first is not None
    # A square from the top, clear of the caption strip along the bottom.
    side = round(min(first.size) * 0.92)
    left = (first.width - side) // 2
    icon = first.crop((left, 0, left + side, side)).resize((ICON_SIZE, ICON_SIZE), Image.Resampling.LANCZOS)
    ICON.parent.mkdir(exist_ok=True)
    icon.save(ICON, "PNG", optimize=True)
    print(f"wrote {ICON.relative_to(ROOT)} {icon.size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
